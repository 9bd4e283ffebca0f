// Instructions that only change the image config: ENV, LABEL, EXPOSE, USER, VOLUME,
// HEALTHCHECK, SHELL, STOPSIGNAL, ONBUILD, CMD, ENTRYPOINT, MAINTAINER, and ARG (key only).
import { posix } from 'node:path';
import type { ContainerConfig } from '../../image/index.js';
import { exposedPortKeys, goQuote, type Instruction } from '../dockerfile/index.js';
import type { StepContext, StepPlan } from './step.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

function setEnv(env: readonly string[], key: string, value: string): string[] {
  const entry = `${key}=${value}`;
  const i = env.findIndex((e) => e === key || e.startsWith(key + '='));
  if (i < 0) return [...env, entry];
  const copy = [...env];
  copy[i] = entry;
  return copy;
}

function quoteValue(v: string): string {
  return /[\s"'\\$]/.test(v) || v === '' ? JSON.stringify(v) : v;
}

/** Go's `%q` of a string list, which BuildKit's history uses for CMD and ENTRYPOINT: `["a" "b"]`. */
function goQuotedList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's `%v` of a string list (VOLUME and SHELL history): `[/data /logs]`. */
function goList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

/** The exec or shell form as the config stores it. */
function commandOf(cmdLine: string[], prependShell: boolean, shell: readonly string[]): string[] {
  return prependShell ? [...shell, cmdLine.join(' ')] : [...cmdLine];
}

/** `WORKDIR rel` is relative to the current one. */
export function resolveWorkdir(current: string | undefined, path: string): string {
  return posix.resolve(current || '/', path);
}

export function metadataStep(ins: Instruction, ctx: StepContext): StepPlan | undefined {
  const cfg: ContainerConfig = ctx.state.config;
  const shell = cfg.Shell ?? DEFAULT_SHELL;
  const plan = (instruction: string, createdBy: string, change: (c: ContainerConfig) => ContainerConfig): StepPlan => ({
    inputs: { instruction },
    createdBy,
    configAfter: () => change(structuredClone(cfg)),
    execute: async () => ({ config: change(structuredClone(cfg)) }),
  });
  switch (ins.kind) {
    case 'env': {
      const text = 'ENV ' + ins.env.map((kv) => `${kv.key}=${quoteValue(kv.value)}`).join(' ');
      return plan(text, text, (c) => {
        let env = c.Env ?? [];
        for (const kv of ins.env) env = setEnv(env, kv.key, kv.value);
        return { ...c, Env: env };
      });
    }
    case 'label': {
      const text = 'LABEL ' + ins.labels.map((kv) => `${kv.key}=${quoteValue(kv.value)}`).join(' ');
      return plan(text, text, (c) => ({ ...c, Labels: { ...(c.Labels ?? {}), ...Object.fromEntries(ins.labels.map((kv) => [kv.key, kv.value])) } }));
    }
    case 'expose': {
      const keys = ins.ports.flatMap((p) => exposedPortKeys(p));
      const text = `EXPOSE ${keys.join(' ')}`;
      return plan(text, `EXPOSE map[${keys.map((k) => `${k}:{}`).join(' ')}]`, (c) => ({
        ...c,
        ExposedPorts: { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(keys.map((k) => [k, {}])) },
      }));
    }
    case 'user':
      return plan(`USER ${ins.user}`, `USER ${ins.user}`, (c) => ({ ...c, User: ins.user }));
    case 'volume': {
      return plan(`VOLUME ${JSON.stringify(ins.volumes)}`, `VOLUME ${goList(ins.volumes)}`, (c) => ({ ...c, Volumes: { ...(c.Volumes ?? {}), ...Object.fromEntries(ins.volumes.map((v) => [v, {}])) } }));
    }
    case 'stopsignal':
      return plan(`STOPSIGNAL ${ins.signal}`, `STOPSIGNAL ${ins.signal}`, (c) => ({ ...c, StopSignal: ins.signal }));
    case 'shell': {
      return plan(`SHELL ${JSON.stringify(ins.shell)}`, `SHELL ${goList(ins.shell)}`, (c) => ({ ...c, Shell: [...ins.shell] }));
    }
    case 'onbuild': {
      const text = `ONBUILD ${ins.expression}`;
      return plan(text, text, (c) => ({ ...c, OnBuild: [...(c.OnBuild ?? []), ins.expression] }));
    }
    case 'maintainer':
      return plan(`MAINTAINER ${ins.maintainer}`, `MAINTAINER ${ins.maintainer}`, (c) => c);
    case 'cmd': {
      const cmd = commandOf(ins.cmdLine, ins.prependShell, shell);
      return plan(`CMD ${JSON.stringify(cmd)}`, `CMD ${goQuotedList(cmd)}`, (c) => ({ ...c, Cmd: cmd }));
    }
    case 'entrypoint': {
      const ep = commandOf(ins.cmdLine, ins.prependShell, shell);
      const text = `ENTRYPOINT ${JSON.stringify(ep)}`;
      // A new ENTRYPOINT drops an inherited CMD unless CMD was set in this stage (Docker's rule).
      const keepCmd = ctx.state.cmdSet === true;
      return plan(`${text}${keepCmd ? '' : ' (resets CMD)'}`, `ENTRYPOINT ${goQuotedList(ep)}`, (c) => (keepCmd ? { ...c, Entrypoint: ep } : { ...c, Entrypoint: ep, Cmd: null }));
    }
    case 'healthcheck': {
      const h = ins.health;
      const text = `HEALTHCHECK ${JSON.stringify(h)}`;
      return plan(text, `HEALTHCHECK &{${JSON.stringify(h.test)} ${h.interval} ${h.timeout} ${h.startPeriod} ${h.startInterval} ${h.retries}}`, (c) => ({
        ...c,
        Healthcheck: {
          Test: h.test,
          ...(h.interval ? { Interval: h.interval } : {}),
          ...(h.timeout ? { Timeout: h.timeout } : {}),
          ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}),
          ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
          ...(h.retries ? { Retries: h.retries } : {}),
        },
      }));
    }
    case 'arg': {
      // The key moves on with the ARG as written; values enter the keys of the RUN steps that see them.
      const text = 'ARG ' + ins.args.map((a) => a.key).join(' ');
      return { inputs: { instruction: text }, createdBy: text, keyOnly: true, execute: async () => ({ config: cfg }) };
    }
    default:
      return undefined;
  }
}
