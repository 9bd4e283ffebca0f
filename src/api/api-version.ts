// Engine API versions berth serves. docker CLI 28 negotiates down from /_ping's
// API-Version; docker-compose 1.29 uses /version's ApiVersion as is (DESIGN.md).
import { compareApiVersions } from '../client/index.js';
import { BerthError } from '../util/index.js';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.51';

/** "1.42" → 42 (the major is always 1 for the Engine API). */
function minorOf(v: string): number {
  const m = /^1\.(\d+)$/.exec(v);
  return m ? Number(m[1]) : Number.NaN;
}


export { compareApiVersions };

export function apiVersionAtLeast(v: string, min: string): boolean {
  return compareApiVersions(v, min) >= 0;
}

/** Checks a version taken from a `/vX.Y/` prefix with dockerd's wording. */
export function checkApiVersion(v: string): string {
  if (Number.isNaN(minorOf(v)) && !/^\d+(\.\d+)*$/.test(v)) {
    throw new BerthError('invalid-argument', `invalid API version "${v}"`);
  }
  if (compareApiVersions(v, MAX_API_VERSION) > 0) {
    throw new BerthError(
      'invalid-argument',
      `client version ${v} is too new. Maximum supported API version is ${MAX_API_VERSION}`,
    );
  }
  if (compareApiVersions(v, MIN_API_VERSION) < 0) {
    throw new BerthError(
      'invalid-argument',
      `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  return v;
}
