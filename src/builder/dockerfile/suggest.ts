// "did you mean X?" suggestions as BuildKit makes them: the closest option within an edit
// distance below 3, matching the case style of what the user typed.

function distance(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

function matchCase(val: string, orig: string): string {
  if (orig === orig.toLowerCase()) return val.toLowerCase();
  if (orig === orig.toUpperCase()) return val.toUpperCase();
  return val;
}

/** The option closest to `val`, or undefined (also when `val` is itself an option). */
export function suggest(val: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? val : val.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return undefined;
    const d = distance(v, opt);
    if (d < min) {
      best = caseSensitive ? opt : matchCase(opt, val);
      min = d;
    }
  }
  return best;
}

/** `msg (did you mean X?)` when there is a close option. */
export function withSuggestion(msg: string, val: string, options: readonly string[], caseSensitive: boolean): string {
  const s = suggest(val, options, caseSensitive);
  return s === undefined ? msg : `${msg} (did you mean ${s}?)`;
}
