// Cache keys and miss explanations. A step's key = sha256 over its parent's key, the
// expanded instruction, the build args it sees and the content digests of every file it
// reads (never mtimes, never Map order: inputs are sorted before hashing).
import { createHash } from 'node:crypto';
import type { BuildCacheStore, StepInputs } from './cache-store.js';

export function cacheKey(parentKey: string, inputs: StepInputs): string {
  const h = createHash('sha256');
  h.update('berth-build-v1\0');
  h.update(parentKey + '\0');
  h.update(inputs.instruction + '\0');
  h.update((inputs.base ?? '') + '\0');
  for (const k of Object.keys(inputs.args ?? {}).sort()) h.update(`arg:${k}=${inputs.args![k]}\0`);
  h.update((inputs.filesDigest ?? '') + '\0');
  return `sha256:${h.digest('hex')}`;
}

/** Digest of a sorted file list (`path`, type+mode, content digest). */
export function filesDigest(files: Iterable<[string, string]>): string {
  const h = createHash('sha256');
  for (const [p, d] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) h.update(`${p}\0${d}\n`);
  return `sha256:${h.digest('hex')}`;
}

/** A value digest for build args: explanations name the arg, never print its value. */
export function argValueDigest(v: string): string {
  return createHash('sha256').update(v).digest('hex').slice(0, 16);
}

function listNames(names: string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function diffFiles(before: Record<string, string> | undefined, after: Record<string, string> | undefined): string | undefined {
  if (!before || !after) return undefined;
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [p, d] of Object.entries(after)) {
    if (!(p in before)) added.push(p);
    else if (before[p] !== d) changed.push(p);
  }
  for (const p of Object.keys(before)) if (!(p in after)) removed.push(p);
  const parts: string[] = [];
  if (changed.length) parts.push(`file${changed.length > 1 ? 's' : ''} changed: ${listNames(changed.sort())}`);
  if (added.length) parts.push(`file${added.length > 1 ? 's' : ''} added: ${listNames(added.sort())}`);
  if (removed.length) parts.push(`file${removed.length > 1 ? 's' : ''} removed: ${listNames(removed.sort())}`);
  return parts.length ? parts.join('; ') : undefined;
}

function diffArgs(before: Record<string, string> | undefined, after: Record<string, string> | undefined): string | undefined {
  const b = before ?? {};
  const a = after ?? {};
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
  return names.length ? `build arg${names.length > 1 ? 's' : ''} changed: ${names.join(', ')}` : undefined;
}

/** Why a step with these inputs missed: compares with the entry that had the same parent. */
export async function explainMiss(store: BuildCacheStore, parentKey: string, inputs: StepInputs, parentMissed: boolean): Promise<string> {
  if (parentMissed) return 'an earlier step changed';
  const sibs = store.siblings(parentKey);
  if (sibs.length === 0) {
    if (inputs.base !== undefined) {
      const prev = store.withInstruction(inputs.instruction).find(([, e]) => e.inputs.base !== inputs.base);
      if (prev) return `base image changed: ${shortDigest(prev[1].inputs.base!)} → ${shortDigest(inputs.base)}`;
    }
    return 'no cached result for this step';
  }
  // Prefer a candidate with the same instruction text: then the difference is in its inputs.
  const found = sibs.find(([, e]) => e.inputs.instruction === inputs.instruction);
  if (!found) return `instruction changed (was: ${truncate(sibs[0]![1].inputs.instruction)})`;
  const [sameKey, same] = found;
  const reasons = [diffArgs(same.inputs.args, inputs.args)];
  if (same.inputs.filesDigest !== inputs.filesDigest) {
    reasons.push(diffFiles(await store.filesOf(sameKey), inputs.files) ?? 'content of the copied files changed');
  }
  const said = reasons.filter((r): r is string => r !== undefined);
  return said.length ? said.join('; ') : 'cached result was removed';
}

function shortDigest(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}

function truncate(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
