// What this berth CLI build is. scripts/build.mjs fills these in; under tsx (tests) the
// version is read from package.json so it never drifts.
import { readFileSync } from 'node:fs';

declare const __BERTH_VERSION__: string | undefined;
declare const __BERTH_COMMIT__: string | undefined;
declare const __BERTH_BUILT__: string | undefined;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'dev';
  } catch {
    // Not in the source tree (an unusual layout): the version is simply unknown.
    return 'dev';
  }
}

export const CLI_VERSION: string = typeof __BERTH_VERSION__ === 'string' ? __BERTH_VERSION__ : packageVersion();
export const CLI_GIT_COMMIT: string = typeof __BERTH_COMMIT__ === 'string' ? __BERTH_COMMIT__ : 'unknown';
export const CLI_BUILT: string = typeof __BERTH_BUILT__ === 'string' ? __BERTH_BUILT__ : '';
