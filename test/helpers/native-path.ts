// Tests of code with two paths, the berth-sys addon and the binaries or child_process it
// replaces (src/util/native-sys.ts), run each case on both: BERTH_NATIVE is read on every call.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { NATIVE_SYS_FILE } from '../../src/util/index.js';

/** Selects the addon (native) or its fallback for the rest of one test; the test's end restores BERTH_NATIVE. */
export function useNativePath(t: Pick<TestContext, 'after'>, native: boolean): void {
  const before = process.env.BERTH_NATIVE;
  t.after(() => {
    if (before === undefined) delete process.env.BERTH_NATIVE;
    else process.env.BERTH_NATIVE = before;
  });
  if (native) delete process.env.BERTH_NATIVE;
  else process.env.BERTH_NATIVE = '0';
}

/**
 * The two paths a root test runs on: the addon (skipped unless `npm run build` made it) and
 * `fallback`, its replacement. `needsRootTo` says why root is needed, for the skip message.
 */
export function nativePaths(needsRootTo: string, fallback: string) {
  const noRoot = process.getuid?.() !== 0 ? `needs root to ${needsRootTo}` : false;
  const built = existsSync(join(import.meta.dirname, '../../dist', NATIVE_SYS_FILE));
  return [
    { name: 'the berth-sys addon', native: true, skip: noRoot || (!built ? `no dist/${NATIVE_SYS_FILE} (npm run build makes it)` : false) },
    { name: fallback, native: false, skip: noRoot },
  ] as const;
}
