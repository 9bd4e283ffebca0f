// `--change` instructions of docker import/commit: a Dockerfile subset (CMD, ENTRYPOINT, ENV,
// EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD, HEALTHCHECK is not supported)
// applied to an image's container config. The builder has its own full parser; image/ cannot
// import it (it sits above), and this subset is all commit/import need.
import { invalidArgument } from '../util/index.js';
import type { ContainerConfig } from './schemas.js';

const SUPPORTED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL', 'ONBUILD']);

/** A JSON array of strings (`["sh","-c"]`) or undefined when `s` is not one (shell form). */
function jsonArray(s: string): string[] | undefined {
  const t = s.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // Not JSON: Docker then treats the whole text as the shell form, and so do we.
  }
  return undefined;
}

/** Splits `a=1 "b=two words" c='x'` into words, honouring quotes and backslash escapes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw invalidArgument(`unterminated quote in "${s}"`);
  if (inWord) out.push(cur);
  return out;
}

/** `k=v k2=v2` or the legacy `k v with spaces` form of ENV and LABEL. */
function keyValues(instr: string, args: string): Array<[string, string]> {
  const words = splitWords(args);
  if (words.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // Legacy form: first word is the key, the rest of the line the value.
    const lm = /^\s*(\S+)\s+([\s\S]*\S)\s*$/.exec(args);
    if (!lm) throw invalidArgument(`${instr} names "${words[0]!}" but gives no value`);
    return [[lm[1]!, splitWords(lm[2]!).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidArgument(`${instr} "${w}": expected key=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function commandOf(args: string): string[] {
  return jsonArray(args) ?? ['/bin/sh', '-c', args.trim()];
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.split('=', 1)[0] !== key);
  out.push(`${key}=${value}`);
  return out;
}

/** Applies each change to a copy of `config`; a bad change is an invalid-argument naming it. */
export function applyConfigChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const next: ContainerConfig = structuredClone(config);
  for (const raw of changes) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const args = m[2]!;
    if (!SUPPORTED.has(instr)) throw invalidArgument(`${m[1]} is not a valid change command`);
    if (args.trim() === '' && instr !== 'CMD' && instr !== 'ENTRYPOINT') {
      throw invalidArgument(`${instr} requires at least one argument`);
    }
    switch (instr) {
      case 'CMD':
        next.Cmd = args.trim() === '' ? null : commandOf(args);
        break;
      case 'ENTRYPOINT':
        next.Entrypoint = args.trim() === '' ? null : commandOf(args);
        // Docker resets CMD when ENTRYPOINT changes in a Dockerfile; for --change it keeps it.
        break;
      case 'ENV': {
        let env = next.Env ?? [];
        for (const [k, v] of keyValues(instr, args)) env = setEnv(env, k, v);
        next.Env = env;
        break;
      }
      case 'LABEL': {
        const labels = { ...(next.Labels ?? {}) };
        for (const [k, v] of keyValues(instr, args)) labels[k] = v;
        next.Labels = labels;
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(next.ExposedPorts ?? {}) };
        for (const p of splitWords(args)) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!pm) throw invalidArgument(`invalid port "${p}" in EXPOSE`);
          const lo = Number(pm[1]);
          const hi = pm[2] ? Number(pm[2]) : lo;
          if (lo < 1 || hi > 65535 || hi < lo) throw invalidArgument(`invalid port range "${p}" in EXPOSE`);
          for (let port = lo; port <= hi; port++) ports[`${port}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        next.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(next.Volumes ?? {}) };
        for (const v of jsonArray(args) ?? splitWords(args)) {
          if (v === '') throw invalidArgument('VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        next.Volumes = vols;
        break;
      }
      case 'USER':
        next.User = args.trim();
        break;
      case 'WORKDIR': {
        const dir = args.trim();
        // Relative WORKDIR is relative to the previous one, as in a Dockerfile.
        next.WorkingDir = dir.startsWith('/') ? dir : `${(next.WorkingDir ?? '/').replace(/\/$/, '')}/${dir}`;
        break;
      }
      case 'STOPSIGNAL':
        next.StopSignal = args.trim();
        break;
      case 'ONBUILD':
        next.OnBuild = [...(next.OnBuild ?? []), args.trim()];
        break;
    }
  }
  return next;
}
