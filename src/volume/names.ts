// Volume names: Docker's rule for the local driver, and the random names of anonymous volumes.
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../util/index.js';
import { VOLUME_NAME_CHARS, VOLUME_NAME_RE } from './constants.js';

const MAX_NAME_BYTES = 255;

/** Throws invalid-argument with Docker's wording when `name` cannot name a local volume. */
export function validateVolumeName(name: string): void {
  if (name.length === 1 && /^[a-zA-Z0-9]$/.test(name)) {
    throw invalidArgument(`volume name "${name}" is too short, names should be at least two alphanumeric characters`);
  }
  // One directory entry per volume: the file system's name limit is the volume's.
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw invalidArgument(`volume name "${name.slice(0, 32)}…" is too long: at most ${MAX_NAME_BYTES} characters`);
  }
  if (!VOLUME_NAME_RE.test(name)) {
    throw invalidArgument(
      `volume name "${name}" includes invalid characters for a local volume name, only "${VOLUME_NAME_CHARS}" are allowed. ` +
        'If you intended to pass a host directory, use absolute path',
    );
  }
}

export function isValidVolumeName(name: string): boolean {
  return VOLUME_NAME_RE.test(name);
}

/** 64 lowercase hex digits, like Docker's anonymous volume names. */
export function generateVolumeName(): string {
  return randomBytes(32).toString('hex');
}
