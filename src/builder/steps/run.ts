// RUN: the command in a one-off container on an overlay snapshot of the current image,
// with --mount (cache, tmpfs, secret, bind) and --network; the snapshot's diff is the layer.
import { createHash, randomBytes } from 'node:crypto';
import { chown, lstat, mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { OciMount } from '../../runtime/index.js';
import { resolveInRoot } from '../../runtime/index.js';
import { BerthError, SourceError } from '../../util/index.js';
import { argValueDigest } from '../cache-key.js';
import { chompHeredocContent, type RunInstruction, type RunMount } from '../dockerfile/index.js';
import { mountSnapshot, type MountedSnapshot } from '../snapshot-work.js';
import { DEFAULT_SHELL } from './metadata.js';
import type { StepContext, StepPlan } from './step.js';

/** Lines of output quoted in the error of a failing RUN. */
const ERROR_TAIL_LINES = 10;
/** Files the runtime bind-mounts over; stubs it had to create must not end in the layer. */
const RUNTIME_STUBS = ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'];

/** The process args: exec form as is; shell form through SHELL, heredocs as shell script. */
export function runArgs(ins: RunInstruction, shell: readonly string[]): string[] {
  if (!ins.prependShell) return [...ins.cmdLine];
  const line = ins.cmdLine.join(' ');
  if (ins.files.length === 0) return [...shell, line];
  const body = (f: RunInstruction['files'][number]) => (f.chomp ? chompHeredocContent(f.data) : f.data);
  const sole = ins.files.length === 1 && /^<<-?\s*["']?[^\s"']+["']?$/.test(line.trim());
  if (sole) return [...shell, body(ins.files[0]!)];
  return [...shell, `${line}\n${ins.files.map((f) => `${body(f)}${f.name}\n`).join('')}`];
}

function envMerge(base: readonly string[], extra: Map<string, string>): string[] {
  const keys = new Set(base.map((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e)));
  const out = [...base];
  for (const [k, v] of extra) if (!keys.has(k)) out.push(`${k}=${v}`);
  return out;
}

/** Path components of `target` missing in the rootfs, outermost first (container paths). */
async function missingComponents(rootfs: string, target: string): Promise<string[]> {
  const parts = posix.normalize('/' + target).split('/').filter(Boolean);
  const missing: string[] = [];
  let cur = '';
  for (const p of parts) {
    cur = `${cur}/${p}`;
    if (missing.length) {
      missing.push(cur);
      continue;
    }
    const host = await resolveInRoot(rootfs, cur);
    try {
      await lstat(host);
    } catch {
      missing.push(cur);
    }
  }
  return missing;
}

/** Removes mount-point stubs from the snapshot's upper dir: empty files and empty dirs only. */
async function removeStubs(upper: string, stubs: string[]): Promise<void> {
  for (const p of [...new Set(stubs)].sort((a, b) => b.length - a.length)) {
    const host = join(upper, p);
    let st;
    try {
      st = await lstat(host);
    } catch {
      continue; // never created (or already gone)
    }
    if (st.isDirectory()) {
      if ((await readdir(host)).length === 0) await rmdir(host);
    } else if (st.isFile() && st.size === 0) {
      await rm(host);
    }
  }
}

interface PreparedMounts {
  oci: OciMount[];
  env: Map<string, string>;
  cleanup: Array<() => Promise<void>>;
}

async function prepareMounts(ctx: StepContext, mounts: RunMount[], cwd: string): Promise<PreparedMounts> {
  const out: PreparedMounts = { oci: [], env: new Map(), cleanup: [] };
  const fail = (msg: string): never => {
    throw new SourceError(ctx.file, ctx.line, msg);
  };
  for (const m of mounts) {
    const target = m.target ? posix.resolve(cwd, m.target) : undefined;
    switch (m.type) {
      case 'cache': {
        if (!target) fail('cache mount needs a target');
        if (m.from) fail('cache mounts from another stage are not supported');
        const id = createHash('sha256').update(m.id || target!).digest('hex').slice(0, 32);
        const dir = join(ctx.deps.workRoot, 'cache-mounts', id);
        await mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
        if (m.uid !== undefined || m.gid !== undefined) await chown(dir, m.uid ?? 0, m.gid ?? 0);
        out.oci.push({ destination: target!, type: 'bind', source: dir, options: ['rbind', m.readOnly ? 'ro' : 'rw'] });
        break;
      }
      case 'tmpfs':
        if (!target) fail('tmpfs mount needs a target');
        out.oci.push({ destination: target!, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.sizeLimit ? [`size=${m.sizeLimit}`] : [])] });
        break;
      case 'secret': {
        const id = m.id ?? (m.target ? posix.basename(m.target) : undefined);
        if (!id) fail('secret mount needs an id or a target');
        const secret = ctx.secrets.find((s) => s.id === id);
        if (!secret) {
          if (m.required) fail(`secret ${id} not found`);
          break;
        }
        const value = secret.value ?? (await readSecretFile(secret.src!));
        if (m.env) out.env.set(m.env, value.toString('utf8'));
        if (m.env && !m.target) break;
        const dir = join(ctx.deps.runRoot, 'secrets', randomBytes(8).toString('hex'));
        await mkdir(dir, { recursive: true, mode: 0o700 });
        out.cleanup.push(() => rm(dir, { recursive: true, force: true }));
        const file = join(dir, 'secret');
        await writeFile(file, value, { mode: m.mode ?? 0o400 });
        await chown(file, m.uid ?? 0, m.gid ?? 0);
        out.oci.push({ destination: target ?? `/run/secrets/${id}`, type: 'bind', source: file, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
        break;
      }
      case 'bind': {
        const dest = target ?? fail('bind mount needs a target');
        const src = posix.normalize('/' + (m.source ?? '')).slice(1);
        let root = '';
        if (m.from) {
          const stage = await ctx.stageOutput(m.from);
          if (!stage) fail(`bind mounts from images are not supported: "${m.from}"`);
          const snap = await mountSnapshot(ctx.deps.storage, ctx.deps.workRoot, stage!.topChainId, { signal: ctx.signal });
          out.cleanup.push(() => snap.release());
          root = snap.rootfs;
        }
        if (!m.from) root = await ctx.context.spool.materialize();
        const host = await resolveInRoot(root, src);
        out.oci.push({ destination: dest, type: 'bind', source: host, options: ['rbind', m.readOnly ? 'ro' : 'rw'] });
        break;
      }
      case 'ssh':
        fail('RUN --mount=type=ssh is not supported');
    }
  }
  return out;
}

async function readSecretFile(path: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path);
  } catch (err) {
    throw new BerthError('invalid-argument', `cannot read secret file "${path}": ${(err as Error).message}`, { cause: err });
  }
}

export function runStep(ins: RunInstruction, ctx: StepContext): StepPlan {
  const cfg = ctx.state.config;
  const shell = cfg.Shell ?? DEFAULT_SHELL;
  const args = runArgs(ins, shell);
  const argNames = [...ctx.argEnv.keys()].sort();
  const argsPrefix = argNames.length ? `|${argNames.length} ${argNames.map((k) => `${k}=${ctx.argEnv.get(k)}`).join(' ')} ` : '';
  const mountsText = ins.mountSpecs.map((m) => `--mount=${m} `).join('');
  const netText = ins.network !== 'default' ? `--network=${ins.network} ` : '';
  const instruction = `RUN ${mountsText}${netText}${JSON.stringify(args)}`;
  return {
    inputs: { instruction, args: Object.fromEntries(argNames.map((k) => [k, argValueDigest(ctx.argEnv.get(k)!)])) },
    createdBy: `RUN ${argsPrefix}${args.join(' ')} # buildkit`,
    execute: async () => {
      const snap: MountedSnapshot = await mountSnapshot(ctx.deps.storage, ctx.deps.workRoot, ctx.state.topChainId, { signal: ctx.signal });
      let handedOver = false;
      const cleanups: Array<() => Promise<void>> = [];
      try {
        const cwd = cfg.WorkingDir || '/';
        await mkdir(await resolveInRoot(snap.rootfs, cwd), { recursive: true, mode: 0o755 });
        const prepared = await prepareMounts(ctx, ins.mounts ?? [], cwd);
        cleanups.push(...prepared.cleanup);
        const stubs: string[] = [];
        for (const t of [...RUNTIME_STUBS, ...prepared.oci.map((m) => m.destination)]) stubs.push(...(await missingComponents(snap.rootfs, t)));
        const env = envMerge(envMerge(cfg.Env ?? [], prepared.env), ctx.argEnv);
        const tail: string[] = [];
        let partial = '';
        const network = ins.network === 'default' ? ctx.network : ins.network;
        const r = await ctx.deps.runner.run(
          { rootfs: snap.rootfs, args, env, cwd, user: cfg.User ?? '', network, mounts: prepared.oci, extraHosts: ctx.extraHosts },
          {
            signal: ctx.signal,
            onOutput: (chunk) => {
              const text = chunk.toString('utf8');
              ctx.log(text);
              const lines = (partial + text).split('\n');
              partial = lines.pop() ?? '';
              tail.push(...lines);
              if (tail.length > ERROR_TAIL_LINES) tail.splice(0, tail.length - ERROR_TAIL_LINES);
            },
          },
        );
        if (r.exitCode !== 0) {
          if (partial) tail.push(partial);
          const shown = tail.slice(-ERROR_TAIL_LINES).map((l) => `\n > ${l}`).join('');
          throw new SourceError(
            ctx.file,
            ctx.line,
            `${ins.original}: process ${JSON.stringify(args.join(' '))} did not complete successfully: exit code: ${r.exitCode}${shown}`,
          );
        }
        await snap.unmount();
        await removeStubs(ctx.deps.storage.snapshotter.upperPath(snap.key), stubs);
        handedOver = true;
        return {
          config: cfg,
          layer: snap.diff({ signal: ctx.signal }),
          cleanup: async () => {
            for (const c of cleanups) await c();
            await snap.release();
          },
        };
      } finally {
        if (!handedOver) {
          for (const c of cleanups) await c().catch(() => undefined); // the step's own error is the one to report
          await snap.release();
        }
      }
    },
  };
}

