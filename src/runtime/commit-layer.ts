// The layer `docker commit` writes: the container's writable layer without what berth made in
// the rootfs for the runtime. dockerd makes those files (/.dockerenv, the mount points of the
// network files and of the init binary) in an init layer below the container's, so they never
// reach a committed image; berth makes them in the container's own layer, so they are taken
// out here, with the directories that held nothing else.
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header } from 'tar-stream';
import { isGenerated } from './archive.js';

interface OpenDir {
  header: Header;
  /** With a trailing slash. */
  name: string;
  written: boolean;
  sawGenerated: boolean;
}

/** `layer` (a tar) without the generated files, and without directories that held only those. */
export function withoutGenerated(layer: Readable): Readable {
  const input = extract();
  const output = pack();
  const out = new PassThrough();
  /** The directories that enclose the current entry, outermost first. */
  const open: OpenDir[] = [];

  const writeOpen = (): void => {
    for (const d of open) {
      if (d.written) continue;
      output.entry(d.header);
      d.written = true;
    }
  };
  /** A directory left behind: one that held nothing stays (a real change of its own), one that held only generated files goes. */
  const close = (): void => {
    const d = open.pop()!;
    if (d.written || d.sawGenerated) return;
    open.push(d);
    writeOpen();
    open.pop();
  };

  input.on('entry', (header, body, next) => {
    const name = header.name.replace(/^\.\//, '');
    while (open.length && !name.startsWith(open[open.length - 1]!.name)) close();
    if (isGenerated(name.replace(/\/$/, ''))) {
      if (open.length) open[open.length - 1]!.sawGenerated = true;
      body.on('end', next).resume();
      return;
    }
    writeOpen();
    if (header.type === 'directory') {
      open.push({ header, name: name.endsWith('/') ? name : `${name}/`, written: false, sawGenerated: false });
      body.on('end', next).resume();
      return;
    }
    body.pipe(output.entry(header, (err) => (err ? input.destroy(err) : next())));
  });
  input.on('finish', () => {
    while (open.length) close();
    output.finalize();
  });

  pipeline(layer, input).catch((err: unknown) => out.destroy(err as Error));
  output.on('error', (err) => out.destroy(err));
  output.pipe(out);
  // A reader that goes early (a cancelled commit) stops the layer's tar too; after the end, a no-op.
  out.on('close', () => layer.destroy());
  return out;
}
