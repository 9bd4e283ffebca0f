// Where conmon's attach socket is and how to reach it.
//
// conmon binds `<socket-dir>/<session>/attach`, `<socket-dir>/<session>` being a symlink to
// the bundle. A unix socket address holds at most 107 bytes (sun_path), and a socket dir under
// a long exec-root plus a 64-character id can exceed it; conmon itself gets around that through
// /proc/self/fd. So do we: the socket dir is opened once and named by its descriptor.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** sun_path is 108 bytes including the terminating NUL. */
const SUN_PATH_MAX = 107;

type SeqpacketModule = typeof import('node-unix-socket');
let seqpacketModule: Promise<SeqpacketModule> | undefined;

/** node-unix-socket is a native addon: loaded on the first attach, not at daemon start. */
export function loadSeqpacket(): Promise<SeqpacketModule> {
  return (seqpacketModule ??= import('node-unix-socket'));
}

/** conmon's attach socket for a session (container id or exec id). */
export function attachSocketPath(socketDir: string, session: string): string {
  return join(socketDir, session, 'attach');
}

/** Socket dirs held open to be named through /proc/self/fd (one descriptor per dir, kept). */
const heldDirs = new Map<string, Promise<FileHandle>>();

/**
 * A name of the session's attach socket that fits in sun_path. The socket need not exist yet
 * (the result stays valid for a session that starts later).
 */
export async function connectableSocketPath(socketDir: string, session: string): Promise<string> {
  const direct = attachSocketPath(socketDir, session);
  if (Buffer.byteLength(direct) <= SUN_PATH_MAX) return direct;
  let held = heldDirs.get(socketDir);
  if (!held) {
    held = open(socketDir, 'r');
    heldDirs.set(socketDir, held);
    held.catch(() => heldDirs.delete(socketDir));
  }
  const fh = await held;
  return `/proc/self/fd/${fh.fd}/${session}/attach`;
}
