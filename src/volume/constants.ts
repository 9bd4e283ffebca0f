// Well-known strings of the volume layer (STYLE.md §3): labels, driver names, name rules.

/** Set on every volume created without a name; `volume prune` without `all` removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export const LOCAL_DRIVER = 'local';

/** Docker's restricted name pattern for local volumes (moby `daemon/names`). */
export const VOLUME_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The directory inside `<root>/<name>/` that containers see. */
export const VOLUME_DATA_DIR = '_data';
export const VOLUME_META_FILE = 'meta.json';

/** Prefixes of directories under the root that are not volumes (building or being removed). */
export const TEMP_DIR_PREFIX = '.tmp-';
export const REMOVING_DIR_PREFIX = '.removing-';

/** Timeouts for the child processes the volume layer runs (STYLE.md §8). */
export const MOUNT_TIMEOUT_MS = 30_000;
export const UNMOUNT_TIMEOUT_MS = 30_000;
export const COPY_UP_TIMEOUT_MS = 10 * 60_000;
