// COPY and ADD with Docker's rules: a directory source copies its contents, a file goes to
// `dest/basename` when dest ends in `/` or is an existing directory, several sources need a
// `dest/`, globs match within the context, --chown/--chmod/--exclude/--from, ADD unpacks local
// tar archives and downloads URLs. The layer is written as a tar stream (never through the
// overlay), with the parent directories' existing metadata so nothing above dest changes.
import { lstat, readdir, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, pack as tarPack, type Header, type Pack } from 'tar-stream';
import { resolveInRoot } from '../../runtime/index.js';
import { BerthError, SourceError } from '../../util/index.js';
import { filesDigest } from '../cache-key.js';
import { MAX_EXPLAIN_FILES } from '../cache-store.js';
import {
  CONTEXT_ROOT,
  GLOB,
  cleanRel,
  contextDescendants,
  contextNode,
  diskNode,
  download,
  globToRegExp,
  isTarArchive,
  isUrl,
  matchContext,
  parseOwner,
  walk,
  type ResolvedSource,
  type SourceNode,
} from './copy-sources.js';
import { DockerignoreMatcher, type AddInstruction, type CopyInstruction } from '../dockerfile/index.js';
import { mountSnapshot, type MountedSnapshot } from '../snapshot-work.js';
import { checksumHash, parseChecksum, type Checksum } from './add-checksum.js';
import { parseModeChange, type ModeChange } from './chmod-mode.js';
import type { StepContext, StepPlan } from './step.js';

type Headers = Partial<Header> & Pick<Header, 'name'>;
type FileIns = CopyInstruction | AddInstruction;

export async function copyStep(ins: FileIns, ctx: StepContext): Promise<StepPlan> {
  const fail = (msg: string): never => {
    throw new SourceError(ctx.file, ctx.line, msg);
  };
  const kw = ins.kind === 'add' ? 'ADD' : 'COPY';
  const from = ins.kind === 'copy' ? ins.from : undefined;
  let chmod: ModeChange | undefined;
  if (ins.chmod) {
    try {
      chmod = parseModeChange(ins.chmod);
    } catch (err) {
      throw new SourceError(ctx.file, ctx.line, (err as Error).message, { cause: err });
    }
  }
  const sources = ins.sources.filter((s) => s !== '');
  const inline = ins.sourceContents;
  const excluder = ins.excludes.length ? DockerignoreMatcher.fromPatterns(ins.excludes) : undefined;
  const cleanups: Array<() => Promise<void>> = [];

  // Where sources come from: the context, a finished stage, or an image.
  let fromKey = '';
  let fromChain: import('../../storage/index.js').ChainId | undefined;
  let fromIsStage = false;
  if (from) {
    const stage = await ctx.stageOutput(from);
    if (stage) {
      fromKey = stage.key;
      fromChain = stage.topChainId;
      fromIsStage = true;
    } else {
      let img;
      try {
        img = await ctx.deps.images.resolve(from, { signal: ctx.signal });
      } catch (err) {
        throw new SourceError(ctx.file, ctx.line, `${kw} --from=${from}: no stage or image named "${from}" (no registry to pull from)`, { cause: err });
      }
      fromKey = `image:${img.id}`;
      fromChain = img.topChainId;
    }
  }

  // Inputs from the context are known without reading a file again (digests from the intake).
  const files = new Map<string, string>();
  const urlDownloads: Array<{ src: string; abs: string; name: string; mtime: Date }> = [];
  let checksum: Checksum | undefined;
  if (ins.kind === 'add' && ins.checksum) {
    try {
      checksum = parseChecksum(ins.checksum);
    } catch (err) {
      throw new SourceError(ctx.file, ctx.line, `${kw} --checksum=${ins.checksum}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!from) {
    for (const src of sources) {
      if (isUrl(src)) {
        if (ins.kind !== 'add') fail(`source can't be a URL for COPY`);
        if (checksum) {
          // The pinned digest is the cache input: a hit needs no download at all.
          files.set(src, checksum.text);
          continue;
        }
        const dl = await download(src, join(ctx.deps.workRoot, 'tmp'), ctx.signal);
        cleanups.push(() => rm(dl.abs, { force: true }));
        urlDownloads.push({ src, ...dl });
        files.set(src, await ctx.deps.hasher.digestOf(dl.abs));
        continue;
      }
      const matched = matchContext(ctx, src);
      if (matched.length === 0) {
        const c = cleanRel(src);
        const why = ctx.context.ignored.has(c) ? ' (excluded by .dockerignore)' : '';
        fail(`${kw} ${src}: source "${src}" not found in the build context${why}`);
      }
      for (const m of matched) {
        const prefix = m === '' ? '' : m + '/';
        const e = ctx.context.entries.get(m);
        if (e && e.type !== 'dir') files.set(m, `${e.digest} ${e.mode.toString(8)}`);
        else {
          for (const [p, ent] of ctx.context.entries) {
            if (prefix !== '' && !p.startsWith(prefix)) continue;
            if (excluder && excluder.matches(p.slice(prefix.length))) continue;
            files.set(p, ent.type === 'dir' ? `dir ${ent.mode.toString(8)}` : `${ent.digest} ${ent.mode.toString(8)}`);
          }
        }
      }
    }
  }
  const flags = [
    from ? `--from=${fromKey}` : '',
    ins.chown ? `--chown=${ins.chown}` : '',
    ins.chmod ? `--chmod=${ins.chmod}` : '',
    checksum ? `--checksum=${checksum.text}` : '',
    ins.link ? '--link' : '',
    ...ins.excludes.map((e) => `--exclude=${e}`),
  ].filter(Boolean);
  const inlineText = inline.map((c) => `<<${c.path}:${c.data}`).join(' ');
  const instruction = `${kw} ${[...flags, ...sources, inlineText].filter(Boolean).join(' ')} ${ins.dest}`;
  const fd = filesDigest(files);
  const shownArgs = ins.original.replace(/^\s*\S+\s*/, '');
  return {
    inputs: {
      instruction,
      filesDigest: fd,
      ...(files.size <= MAX_EXPLAIN_FILES ? { files: Object.fromEntries(files) } : {}),
    },
    createdBy: `${kw} ${shownArgs} # buildkit`,
    execute: async () => {
      const parent = await mountSnapshot(ctx.deps.storage, ctx.deps.workRoot, ctx.state.topChainId, { signal: ctx.signal });
      cleanups.push(() => parent.release());
      let source: MountedSnapshot | undefined;
      if (from) {
        source = await mountSnapshot(ctx.deps.storage, ctx.deps.workRoot, fromChain, { signal: ctx.signal });
        cleanups.push(() => source!.release());
      }
      try {
        if (checksum) {
          const src = sources.find(isUrl)!;
          const hash = checksumHash(checksum);
          const dl = await download(src, join(ctx.deps.workRoot, 'tmp'), ctx.signal, hash);
          cleanups.push(() => rm(dl.abs, { force: true }));
          const actual = `${checksum.algorithm}:${hash.digest('hex')}`;
          if (actual !== checksum.text) {
            fail(`${kw} --checksum=${checksum.text} ${src}: digest mismatch: expected ${checksum.text}, got ${actual}`);
          }
          urlDownloads.push({ src, ...dl });
        }
        const layer = await buildLayer(ins, ctx, { parent, source, chmod, excluder, urlDownloads, sources, fail, keepOwner: fromIsStage || !!from });
        return {
          config: ctx.state.config,
          layer,
          cleanup: async () => {
            for (const c of cleanups.reverse()) await c();
          },
        };
      } catch (err) {
        for (const c of cleanups.reverse()) await c().catch(() => undefined); // the copy error is the one to report
        throw err;
      }
    },
  };
}

async function buildLayer(
  ins: FileIns,
  ctx: StepContext,
  o: {
    parent: MountedSnapshot;
    source: MountedSnapshot | undefined;
    chmod: ModeChange | undefined;
    excluder: DockerignoreMatcher | undefined;
    urlDownloads: Array<{ src: string; abs: string; name: string; mtime: Date }>;
    sources: string[];
    fail: (msg: string) => never;
    keepOwner: boolean;
  },
): Promise<Readable> {
  const rootfs = o.parent.rootfs;
  const owner = ins.chown ? await parseOwner(rootfs, ins.chown) : undefined;
  const workdir = ctx.state.config.WorkingDir || '/';
  const destIsDirSyntax = ins.dest.endsWith('/') || ins.dest === '.' || ins.dest.endsWith('/.');
  const destPath = posix.resolve(workdir, ins.dest);

  // Resolve every source (globs expanded) before writing anything.
  const resolved: ResolvedSource[] = [];
  const hostPaths = new Map<ResolvedSource, string>();
  const srcRoot = o.source?.rootfs;
  for (const src of o.sources) {
    const dl = o.urlDownloads.find((d) => d.src === src);
    if (dl) {
      resolved.push({ path: dl.name, node: diskNode(dl.abs, await lstat(dl.abs)), name: dl.name, download: { mtime: dl.mtime } });
      continue;
    }
    if (srcRoot === undefined) {
      for (const p of matchContext(ctx, src)) {
        const e = p === '' ? CONTEXT_ROOT : ctx.context.entries.get(p)!;
        resolved.push({ path: p, node: contextNode(ctx.context.spool, e) });
      }
      continue;
    }
    let paths: string[];
    if (GLOB.test(src)) {
      const c = cleanRel(src);
      const dir = posix.dirname(c) === '.' ? '' : posix.dirname(c);
      const re = globToRegExp(posix.basename(c));
      const host = await resolveInRoot(srcRoot, dir);
      paths = (await readdir(host).catch(() => [] as string[])).filter((n) => re.test(n)).sort().map((n) => (dir ? `${dir}/${n}` : n));
    } else paths = [cleanRel(src)];
    if (paths.length === 0) o.fail(`${ins.kind === 'add' ? 'ADD' : 'COPY'} ${src}: source "${src}" not found in the source stage or image`);
    for (const p of paths) {
      const abs = await resolveInRoot(srcRoot, p);
      let st: Stats;
      try {
        st = await lstat(abs);
      } catch {
        o.fail(`${ins.kind === 'add' ? 'ADD' : 'COPY'} ${src}: source "${src}" not found in the source stage or image`);
      }
      const r: ResolvedSource = { path: p, node: diskNode(abs, st!) };
      hostPaths.set(r, abs);
      resolved.push(r);
    }
  }
  for (const c of ins.sourceContents) {
    const data = Buffer.from(c.data);
    resolved.push({
      path: c.path,
      name: c.path,
      inline: c.data,
      node: { type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), size: data.length, linkname: async () => '', data: async () => data, stream: () => Readable.from([data]), head: async (n) => data.subarray(0, n) },
    });
  }
  const multiple = resolved.length > 1;
  if (multiple && !destIsDirSyntax) {
    o.fail('When using COPY with more than one source file, the destination must be a directory and end with a /');
  }
  const destHost = await resolveInRoot(rootfs, destPath);
  const destExistsAsDir = await lstat(destHost).then((s) => s.isDirectory(), () => false);

  const pack: Pack = tarPack();
  const out = new PassThrough();
  pack.pipe(out);
  const written = new Set<string>();
  const now = new Date();

  const containerOf = (host: string) => '/' + relative(rootfs, host);
  /** Emits the directory `cpath` and every ancestor, with existing metadata when present. */
  const ensureDirs = async (cpath: string) => {
    const parts = cpath.split('/').filter(Boolean);
    let cur = '';
    for (const p of parts) {
      cur = `${cur}/${p}`;
      if (written.has(cur)) continue;
      written.add(cur);
      const st = await lstat(join(rootfs, cur)).catch(() => undefined);
      const header: Headers = st?.isDirectory()
        ? { name: cur.slice(1), type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
        : { name: cur.slice(1), type: 'directory', mode: 0o755, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtime: now };
      await entry(pack, header);
    }
  };
  const ids = (n: SourceNode) => (owner ? owner : o.keepOwner ? { uid: n.uid, gid: n.gid } : { uid: 0, gid: 0 });
  const modeOf = (current: number, isDir: boolean) => (o.chmod ? o.chmod(current & 0o7777, isDir) : current);
  const emit = async (cpath: string, n: SourceNode, mode = modeOf(n.mode, n.type === 'dir'), mtime = n.mtime) => {
    const name = cpath.replace(/^\/+/, '');
    const { uid, gid } = ids(n);
    if (n.type === 'dir') {
      written.add(cpath);
      await entry(pack, { name, type: 'directory', mode, uid, gid, mtime });
    } else if (n.type === 'symlink') {
      await entry(pack, { name, type: 'symlink', linkname: await n.linkname(), mode: 0o777, uid, gid, mtime });
    } else if (n.type === 'file') {
      const header: Headers = { name, type: 'file', size: n.size, mode, uid, gid, mtime };
      // Small files in one read: a stream per file costs more than its bytes.
      if (n.size <= SMALL_FILE) await entryBuffer(pack, header, await n.data());
      else await entry(pack, header, n.stream());
    }
  };

  /** The host directory of a --from directory source (context sources have none). */
  const srcRootOf = (r: ResolvedSource): string | undefined => (srcRoot === undefined ? undefined : hostPaths.get(r));
  const work = (async () => {
    // The resolved destination directory (symlinks in dest followed inside the rootfs).
    const destDirC = containerOf(destHost);
    for (const r of resolved) {
      if (r.node.type === 'dir') {
        await ensureDirs(destDirC);
        const keep = (rel: string) => !o.excluder || !o.excluder.matches(rel);
        const items = srcRootOf(r) === undefined ? contextDescendants(ctx, r.path) : walk(srcRootOf(r)!, '');
        for await (const [rel, node] of items) if (keep(rel)) await emit(posix.join(destDirC, rel), node);
        continue;
      }
      const base = r.name ?? posix.basename(r.path);
      if (ins.kind === 'add' && r.name === undefined && r.node.type === 'file') {
        const kind = isTarArchive(await r.node.head(512));
        if (kind) {
          await ensureDirs(destDirC);
          await unpackInto(pack, r.node.stream(), kind, destDirC, owner, written);
          continue;
        }
      }
      const target = destIsDirSyntax || destExistsAsDir ? posix.join(destDirC, base) : destDirC;
      await ensureDirs(posix.dirname(target));
      if (r.download) await emit(target, r.node, modeOf(0o600, false), r.download.mtime);
      else await emit(target, r.node);
    }
    pack.finalize();
  })();
  work.catch((err: unknown) => out.destroy(err as Error));
  return out;
}

const SMALL_FILE = 256 * 1024;

function entryBuffer(pack: Pack, header: Headers, data: Buffer): Promise<void> {
  if (data.length !== header.size) return Promise.reject(new BerthError('internal', `file "${header.name}" changed size while it was copied`));
  return new Promise((resolve, reject) => pack.entry(header, data, (err) => (err ? reject(err) : resolve())));
}

function entry(pack: Pack, header: Headers, body?: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    if (body) {
      body.on('error', reject);
      body.pipe(w);
    }
  });
}

/** ADD of a local tar archive: its members re-emitted under `dest`, never outside it. */
async function unpackInto(pack: Pack, src: Readable, kind: 'gzip' | 'tar', dest: string, owner: { uid: number; gid: number } | undefined, written: Set<string>): Promise<void> {
  const ex = tarExtract();
  const feeding = kind === 'gzip' ? pipeline(src, createGunzip(), ex) : pipeline(src, ex);
  for await (const e of ex) {
    const h = e.header;
    const rel = cleanRel(h.name);
    if (rel === '' || !['file', 'directory', 'symlink', 'link'].includes(h.type ?? '')) {
      e.resume();
      continue;
    }
    const name = posix.join(dest, rel).slice(1);
    const header: Headers = { ...h, name, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) };
    if (h.type === 'link') header.linkname = posix.join(dest, cleanRel(h.linkname ?? '')).slice(1);
    if (h.type === 'directory') written.add('/' + name);
    if (h.type === 'file') await entry(pack, header, e as unknown as Readable);
    else {
      await entry(pack, header);
      e.resume();
    }
  }
  await feeding;
}

