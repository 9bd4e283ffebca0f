// Docker image references (distribution/reference grammar), normalised the way dockerd does:
// `busybox` → `docker.io/library/busybox:latest`. Parsed once at the edge into a branded ImageRef.
import { BerthError, invalidArgument, isDigest, type Digest } from '../util/index.js';

declare const imageRefBrand: unique symbol;
/** A fully qualified reference: `domain/path[:tag][@sha256:…]`, at least one of tag/digest. */
export type ImageRef = string & { readonly [imageRefBrand]: true };

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
export const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6})`;
const domain = `${host}(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domain}/)?${remoteName}`;

const REFERENCE_RE = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const TAG_RE = new RegExp(`^${tagPattern}$`);
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/;
const ID_PREFIX_RE = /^(?:sha256:)?[a-f0-9]{1,64}$/;

export interface Reference {
  /** Registry host (with port), e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag: string | undefined;
  digest: Digest | undefined;
}

function invalidFormat(detail?: string): BerthError {
  return invalidArgument(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

function splitDockerDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  let d: string;
  let rest: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    d = DEFAULT_DOMAIN;
    rest = name;
  } else {
    d = first;
    rest = name.slice(i + 1);
  }
  if (d === LEGACY_DEFAULT_DOMAIN) d = DEFAULT_DOMAIN;
  if (d === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_REPO_PREFIX + rest;
  return { domain: d, path: rest };
}

/** Parses a reference exactly like docker's ParseNormalizedNamed; no default tag is added. */
export function parseNormalizedNamed(s: string): Reference {
  if (s === '') throw invalidFormat();
  if (ANCHORED_ID_RE.test(s)) {
    throw invalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain: d, path: remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remoteName.toLowerCase() !== remoteName) throw invalidFormat(`repository name (${remoteName}) must be lowercase`);
  return parseNamed(`${d}/${remainder}`);
}

/** Parses an already-qualified reference (docker's reference.Parse + the named check). */
function parseNamed(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw invalidFormat();
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalidArgument('repository name must be lowercase');
    throw invalidFormat();
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalidArgument(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  let digest: Digest | undefined;
  if (m[3] !== undefined) {
    const raw = m[3];
    if (!raw.startsWith('sha256:')) throw invalidArgument(`unsupported digest algorithm in "${raw}"`);
    if (!isDigest(raw)) throw invalidArgument(`invalid checksum digest format in "${raw}"`);
    digest = raw;
  }
  const slash = name.indexOf('/');
  return { domain: name.slice(0, slash), path: name.slice(slash + 1), tag: m[2], digest };
}

/** Parses user input into a normalised reference; adds `:latest` when neither tag nor digest is given. */
export function parseImageRef(s: string): ImageRef {
  const r = parseNormalizedNamed(s);
  return formatReference(r.tag === undefined && r.digest === undefined ? { ...r, tag: DEFAULT_TAG } : r);
}

/** Like parseImageRef but returns undefined instead of throwing. */
export function tryParseImageRef(s: string): ImageRef | undefined {
  try {
    return parseImageRef(s);
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'invalid-argument') return undefined;
    throw e;
  }
}

export function formatReference(r: Reference): ImageRef {
  return `${r.domain}/${r.path}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}` as ImageRef;
}

/** Splits a stored ImageRef back into its parts (it was validated when created). */
export function splitImageRef(ref: ImageRef): Reference {
  return parseNamed(ref);
}

/** `domain/path` of a reference: the repository. */
export function repositoryOf(ref: ImageRef | Reference): string {
  const r = typeof ref === 'string' ? splitImageRef(ref) : ref;
  return `${r.domain}/${r.path}`;
}

/** The short name docker shows: `docker.io/library/busybox` → `busybox`, `docker.io/me/x` → `me/x`. */
export function familiarName(repository: string): string {
  let name = repository;
  if (name.startsWith(`${DEFAULT_DOMAIN}/`)) {
    name = name.slice(DEFAULT_DOMAIN.length + 1);
    if (name.startsWith(OFFICIAL_REPO_PREFIX) && name.indexOf('/', OFFICIAL_REPO_PREFIX.length) === -1) {
      name = name.slice(OFFICIAL_REPO_PREFIX.length);
    }
  }
  return name;
}

/** `busybox:latest`, `localhost:5000/x@sha256:…` — what docker prints. */
export function familiarString(ref: ImageRef | Reference): string {
  const r = typeof ref === 'string' ? splitImageRef(ref) : ref;
  return `${familiarName(`${r.domain}/${r.path}`)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** A reference with `repo` and `tag` (docker tag / import / commit); tag defaults to latest. */
export function refWithTag(repo: string, tag: string | undefined): ImageRef {
  const r = parseNormalizedNamed(repo);
  if (tag !== undefined && tag !== '') {
    if (r.tag !== undefined || r.digest !== undefined) throw invalidFormat();
    if (!TAG_RE.test(tag)) throw invalidFormat();
    return formatReference({ ...r, tag });
  }
  if (r.digest !== undefined) throw invalidArgument(`refusing to create a tag with a digest reference "${repo}"`);
  return formatReference({ ...r, tag: r.tag ?? DEFAULT_TAG });
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** True for `abc123`, `sha256:abc…`: strings that can only be an image id (prefix). */
export function isIdPrefix(s: string): boolean {
  return ID_PREFIX_RE.test(s);
}

/** The 12-character id docker prints. */
export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return hex.slice(0, 12);
}
