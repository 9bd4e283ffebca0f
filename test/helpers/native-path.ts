// Tests of code with two paths, the berth-sys addon and the binaries or child_process it
// replaces (src/util/native-sys.ts), run each case on both: BERTH_NATIVE is read on every call.
import type { TestContext } from 'node:test';

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
