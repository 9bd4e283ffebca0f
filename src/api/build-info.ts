// What this berth build is: its version (package.json, inlined by the bundler) and, when
// the build provides them, the commit and build time.
import pkg from '../../package.json' with { type: 'json' };

export const BERTH_VERSION: string = pkg.version;
export const GIT_COMMIT: string = process.env['BERTH_GIT_COMMIT'] ?? 'unknown';
export const BUILD_TIME: string = process.env['BERTH_BUILD_TIME'] ?? '';
