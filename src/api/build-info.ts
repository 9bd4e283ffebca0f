// What this berth build is. The version equals package.json's (build-info.test.ts checks
// it); the commit and build time come from the environment when the build provides them.
export const BERTH_VERSION = '0.1.0';
export const GIT_COMMIT: string = process.env['BERTH_GIT_COMMIT'] ?? 'unknown';
export const BUILD_TIME: string = process.env['BERTH_BUILD_TIME'] ?? '';
