// WORKDIR: sets the config's working directory and creates it when the image lacks it
// (a small layer holding just the new directories, parents with their existing metadata).
import { lstat } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { resolveInRoot } from '../../runtime/index.js';
import type { WorkdirInstruction } from '../dockerfile/index.js';
import { mountSnapshot } from '../snapshot-work.js';
import { resolveWorkdir } from './metadata.js';
import type { StepContext, StepPlan } from './step.js';

export function workdirStep(ins: WorkdirInstruction, ctx: StepContext): StepPlan {
  const path = resolveWorkdir(ctx.state.config.WorkingDir, ins.path);
  return {
    inputs: { instruction: `WORKDIR ${path}` },
    createdBy: `WORKDIR ${path}`,
    configAfter: () => ({ ...ctx.state.config, WorkingDir: path }),
    execute: async () => {
      const config = { ...ctx.state.config, WorkingDir: path };
      const snap = await mountSnapshot(ctx.deps.storage, ctx.deps.workRoot, ctx.state.topChainId, { signal: ctx.signal });
      try {
        const host = await resolveInRoot(snap.rootfs, path);
        if (await lstat(host).then(() => true, () => false)) return { config };
        const pack = tarPack();
        const now = new Date();
        let cur = '';
        for (const part of ('/' + relative(snap.rootfs, host)).split('/').filter(Boolean)) {
          cur = posix.join(cur, part);
          const st = await lstat(join(snap.rootfs, cur)).catch(() => undefined);
          pack.entry(
            st?.isDirectory()
              ? { name: cur, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
              : { name: cur, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: now },
          );
        }
        pack.finalize();
        const out = new PassThrough();
        pack.pipe(out);
        return { config, layer: out };
      } finally {
        await snap.release();
      }
    },
  };
}
