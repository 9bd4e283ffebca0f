// What a container asks to have mounted, from the four places Docker reads it:
// `HostConfig.Binds` strings, `HostConfig.Mounts` objects, the `HostConfig.Tmpfs` map and
// the image's (and `-v /path`'s) `Config.Volumes`. Everything is checked here, with
// dockerd's wording, before anything is created; the result is a JSON-serialisable
// `MountSpec[]` the runtime stores with the container.
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { BerthError, invalidArgument } from '../util/index.js';
import { validateVolumeName, generateVolumeName } from './names.js';
import { isLocalPath } from './secure-join.js';
import { DEFAULT_TMPFS_OPTIONS, formatTmpfsSize, mergeTmpfsOptions, validateTmpfsOption } from './tmpfs-options.js';

export const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] as const;
export type Propagation = (typeof PROPAGATIONS)[number];
const DEFAULT_PROPAGATION: Propagation = 'rprivate';

const StringMap = z.record(z.string(), z.string());

export const BindMountSpecSchema = z.object({
  type: z.literal('bind'),
  source: z.string(),
  destination: z.string(),
  readOnly: z.boolean(),
  propagation: z.enum(PROPAGATIONS),
  /** `-v /host:/ctr` creates a missing host directory; `--mount type=bind` does not. */
  createHostPath: z.boolean(),
  nonRecursive: z.boolean(),
  /** The options as the user wrote them in `Binds` (inspect's `Mode`). */
  mode: z.string(),
});

export const VolumeMountSpecSchema = z.object({
  type: z.literal('volume'),
  name: z.string(),
  /** No name was given: created for this container, removed by `rm -v`. */
  anonymous: z.boolean(),
  destination: z.string(),
  readOnly: z.boolean(),
  /** Skip the copy-up of the image's content on first use. */
  noCopy: z.boolean(),
  /** For a volume this mount creates. */
  driver: z.string().optional(),
  driverOpts: StringMap.optional(),
  labels: StringMap.optional(),
  /** Mount only this directory of the volume. */
  subpath: z.string().optional(),
  mode: z.string(),
});

export const TmpfsMountSpecSchema = z.object({
  type: z.literal('tmpfs'),
  destination: z.string(),
  readOnly: z.boolean(),
  /** User options (`size=64m`, `mode=1777`, `ro`); Docker's defaults are added when resolving. */
  options: z.array(z.string()),
  /** From the `HostConfig.Tmpfs` map (Docker leaves these out of inspect's `Mounts`). */
  fromTmpfsMap: z.boolean(),
});

export const MountSpecSchema = z.discriminatedUnion('type', [BindMountSpecSchema, VolumeMountSpecSchema, TmpfsMountSpecSchema]);

export type BindMountSpec = z.infer<typeof BindMountSpecSchema>;
export type VolumeMountSpec = z.infer<typeof VolumeMountSpecSchema>;
export type TmpfsMountSpec = z.infer<typeof TmpfsMountSpecSchema>;
export type MountSpec = z.infer<typeof MountSpecSchema>;

/** One `HostConfig.Mounts` entry, camelCased by the API layer. */
export interface MountRequest {
  type?: string;
  source?: string;
  target?: string;
  readOnly?: boolean;
  consistency?: string;
  bindOptions?: { propagation?: string; nonRecursive?: boolean; createMountpoint?: boolean };
  volumeOptions?: {
    noCopy?: boolean;
    labels?: Record<string, string>;
    driverConfig?: { name?: string; options?: Record<string, string> };
    subpath?: string;
  };
  tmpfsOptions?: { sizeBytes?: number; mode?: number; options?: string[][] };
}

/** Everything in a container create request that asks for mounts. */
export interface ContainerMountConfig {
  /** `HostConfig.Binds`. */
  binds?: readonly string[];
  /** `HostConfig.Mounts`. */
  mounts?: readonly MountRequest[];
  /** `HostConfig.Tmpfs`: destination → options. */
  tmpfs?: Readonly<Record<string, string>>;
  /** The keys of `Config.Volumes` (image VOLUMEs and `-v /path`): anonymous volumes. */
  volumes?: readonly string[];
  /** `HostConfig.VolumeDriver`: the driver for volumes this container creates. */
  volumeDriver?: string;
}

// ---------------------------------------------------------------------------
// dockerd's messages (moby volume/mounts/errors.go, linux_parser.go)

const invalidSpec = (raw: string) => `invalid volume specification: '${raw}'`;

function mountConfigError(type: string, detail: string): BerthError {
  return invalidArgument(`invalid mount config for type "${type}": ${detail}`);
}

function validateDestination(dest: string): string | undefined {
  if (posix.normalize(dest) === '/') return "invalid specification: destination can't be '/'";
  if (!dest.startsWith('/')) return `invalid mount path: '${dest}' mount path must be absolute`;
  return undefined;
}

/** Normalised like Go's path.Clean: no trailing slash, no `.` or `..` segments. */
function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

// ---------------------------------------------------------------------------
// Binds

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated', 'default']);

function isValidMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, propagation: 0, copy: 0, consistency: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts.rw++;
    else if (LABEL_MODES.has(o)) counts.label++;
    else if ((PROPAGATIONS as readonly string[]).includes(o)) counts.propagation++;
    else if (COPY_MODES.has(o)) counts.copy++;
    else if (CONSISTENCY_MODES.has(o)) counts.consistency++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

/**
 * One `HostConfig.Binds` entry: `/host:/ctr[:opts]` (bind), `name:/ctr[:opts]` (named
 * volume) or `/ctr` (anonymous volume). `opts`: `ro|rw`, `z|Z` (accepted, ignored),
 * a propagation mode, `nocopy`.
 */
export function parseBind(raw: string, opts: { volumeDriver?: string } = {}): MountSpec {
  if ((raw.match(/:/g)?.length ?? 0) > 2) throw invalidArgument(invalidSpec(raw));
  const arr = raw.split(':');
  if (arr[0] === '') throw invalidArgument(invalidSpec(raw));
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) {
    target = arr[0]!;
  } else if (arr.length === 2) {
    // `/foo:rw` names no destination: a volume cannot carry a mode alone.
    if (isValidMode(arr[1]!)) throw invalidArgument(invalidSpec(raw));
    source = arr[0]!;
    target = arr[1]!;
  } else {
    source = arr[0]!;
    target = arr[1]!;
    mode = arr[2]!;
  }
  if (!isValidMode(mode)) throw invalidArgument(`invalid mode: ${mode}`);
  const modes = mode === '' ? [] : mode.split(',');
  const readOnly = modes.includes('ro');
  const noCopy = modes.includes('nocopy');
  const propagation = modes.find((m): m is Propagation => (PROPAGATIONS as readonly string[]).includes(m));
  const type = source.startsWith('/') ? 'bind' : 'volume';
  const wrap = (detail: string) => invalidArgument(`${invalidSpec(raw)}: invalid mount config for type "${type}": ${detail}`);

  const destErr = validateDestination(target);
  if (destErr) throw wrap(destErr);
  if (type === 'bind') {
    if (noCopy) throw wrap('field VolumeOptions must not be specified');
    return {
      type: 'bind',
      source: cleanPath(source),
      destination: cleanPath(target),
      readOnly,
      propagation: propagation ?? DEFAULT_PROPAGATION,
      createHostPath: true,
      nonRecursive: false,
      mode,
    };
  }
  if (propagation) throw wrap('field BindOptions must not be specified');
  const anonymous = source === '';
  if (!anonymous) validateVolumeName(source);
  return {
    type: 'volume',
    name: anonymous ? generateVolumeName() : source,
    anonymous,
    destination: cleanPath(target),
    readOnly,
    noCopy,
    ...(opts.volumeDriver ? { driver: opts.volumeDriver } : {}),
    // dockerd shows `z` as the mode of a local volume given in Binds without options.
    mode: mode === '' ? 'z' : mode,
  };
}

// ---------------------------------------------------------------------------
// Mounts

async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

function tmpfsOptionsOf(m: MountRequest, type: string): string[] {
  const out: string[] = [];
  if (m.readOnly) out.push('ro');
  const t = m.tmpfsOptions;
  if (t?.mode !== undefined && t.mode !== 0) {
    if (!Number.isInteger(t.mode) || t.mode < 0 || t.mode > 0o7777) throw mountConfigError(type, `invalid tmpfs mode: ${t.mode}`);
    out.push(`mode=${t.mode.toString(8)}`);
  }
  if (t?.sizeBytes !== undefined && t.sizeBytes !== 0) {
    if (!Number.isInteger(t.sizeBytes) || t.sizeBytes < 0) throw mountConfigError(type, `invalid tmpfs size: ${t.sizeBytes}`);
    out.push(`size=${formatTmpfsSize(t.sizeBytes)}`);
  }
  for (const o of t?.options ?? []) {
    const opt = o.length === 1 ? o[0]! : o.length === 2 ? `${o[0]}=${o[1]}` : undefined;
    if (opt === undefined) throw mountConfigError(type, `invalid tmpfs option: ${JSON.stringify(o)}`);
    try {
      validateTmpfsOption(opt);
    } catch (err) {
      throw mountConfigError(type, (err as Error).message);
    }
    out.push(opt);
  }
  return out;
}

/** One `HostConfig.Mounts` entry; a bind source must exist unless `CreateMountpoint` is set. */
export async function parseMountRequest(m: MountRequest, opts: { volumeDriver?: string } = {}): Promise<MountSpec> {
  const type = m.type ?? '';
  const target = m.target ?? '';
  if (target === '') throw mountConfigError(type, 'field Target must not be empty');
  const destErr = validateDestination(target);
  if (destErr) throw mountConfigError(type, destErr);
  const destination = cleanPath(target);
  const source = m.source ?? '';
  switch (type) {
    case 'bind': {
      if (source === '') throw mountConfigError(type, 'field Source must not be empty');
      const propagation = m.bindOptions?.propagation;
      if (propagation && !(PROPAGATIONS as readonly string[]).includes(propagation)) {
        throw mountConfigError(type, `invalid propagation mode: ${propagation}`);
      }
      if (m.volumeOptions) throw mountConfigError(type, 'field VolumeOptions must not be specified');
      if (m.tmpfsOptions) throw mountConfigError(type, 'field TmpfsOptions must not be specified');
      if (!source.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${source}' mount path must be absolute`);
      const createMountpoint = m.bindOptions?.createMountpoint ?? false;
      if (!createMountpoint && !(await pathExists(source))) {
        throw mountConfigError(type, `bind source path does not exist: ${source}`);
      }
      return {
        type: 'bind',
        source: cleanPath(source),
        destination,
        readOnly: m.readOnly ?? false,
        propagation: (propagation as Propagation | undefined) || DEFAULT_PROPAGATION,
        createHostPath: createMountpoint,
        nonRecursive: m.bindOptions?.nonRecursive ?? false,
        mode: '',
      };
    }
    case 'volume': {
      if (m.bindOptions) throw mountConfigError(type, 'field BindOptions must not be specified');
      if (m.tmpfsOptions) throw mountConfigError(type, 'field TmpfsOptions must not be specified');
      const anonymous = source === '';
      const vo = m.volumeOptions;
      if (vo?.subpath) {
        if (anonymous) throw mountConfigError(type, 'must not set Subpath when using anonymous volumes');
        if (!isLocalPath(vo.subpath)) throw mountConfigError(type, 'subpath must be a relative path within the volume');
      }
      if (m.readOnly && anonymous) throw mountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
      if (!anonymous) validateVolumeName(source);
      const driver = vo?.driverConfig?.name || opts.volumeDriver;
      const driverOpts = vo?.driverConfig?.options;
      return {
        type: 'volume',
        name: anonymous ? generateVolumeName() : source,
        anonymous,
        destination,
        readOnly: m.readOnly ?? false,
        noCopy: vo?.noCopy ?? false,
        ...(driver ? { driver } : {}),
        ...(driverOpts && Object.keys(driverOpts).length > 0 ? { driverOpts: { ...driverOpts } } : {}),
        ...(vo?.labels && Object.keys(vo.labels).length > 0 ? { labels: { ...vo.labels } } : {}),
        ...(vo?.subpath ? { subpath: posix.normalize(vo.subpath) } : {}),
        mode: '',
      };
    }
    case 'tmpfs': {
      if (m.bindOptions) throw mountConfigError(type, 'field BindOptions must not be specified');
      if (m.volumeOptions) throw mountConfigError(type, 'field VolumeOptions must not be specified');
      if (source !== '') throw mountConfigError(type, 'field Source must not be specified');
      return { type: 'tmpfs', destination, readOnly: m.readOnly ?? false, options: tmpfsOptionsOf(m, type), fromTmpfsMap: false };
    }
    default:
      throw mountConfigError(type, 'mount type unknown');
  }
}

// ---------------------------------------------------------------------------
// Tmpfs map and image volumes

/** One `HostConfig.Tmpfs` entry (`--tmpfs /run:rw,size=64m,mode=1777`). */
export function parseTmpfsEntry(destination: string, data: string): TmpfsMountSpec {
  const destErr = validateDestination(destination);
  if (destErr) throw invalidArgument(destErr);
  const options = data.split(',').map((s) => s.trim()).filter((s) => s !== '');
  // Checked now so a bad option fails the create, not the start.
  mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, ...options]);
  return { type: 'tmpfs', destination: cleanPath(destination), readOnly: options.includes('ro'), options, fromTmpfsMap: true };
}

function duplicate(dest: string): BerthError {
  return invalidArgument(`Duplicate mount point: ${dest}`);
}

/**
 * All mounts of a container create request, in the order Docker applies its
 * precedence: Binds and Mounts (a destination twice is an error), the Tmpfs map,
 * then anonymous volumes for `Config.Volumes` not covered by any of those.
 */
export async function parseMountConfig(cfg: ContainerMountConfig): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  const taken = new Set<string>();
  const add = (spec: MountSpec) => {
    if (taken.has(spec.destination)) throw duplicate(spec.destination);
    taken.add(spec.destination);
    out.push(spec);
  };
  for (const raw of cfg.binds ?? []) add(parseBind(raw, { volumeDriver: cfg.volumeDriver }));
  for (const m of cfg.mounts ?? []) add(await parseMountRequest(m, { volumeDriver: cfg.volumeDriver }));
  for (const [dest, data] of Object.entries(cfg.tmpfs ?? {})) add(parseTmpfsEntry(dest, data));
  for (const v of cfg.volumes ?? []) {
    const destErr = validateDestination(v);
    if (destErr) throw invalidArgument(`${invalidSpec(v)}: ${destErr}`);
    const destination = cleanPath(v);
    if (taken.has(destination)) continue;
    taken.add(destination);
    out.push({
      type: 'volume',
      name: generateVolumeName(),
      anonymous: true,
      destination,
      readOnly: false,
      noCopy: false,
      ...(cfg.volumeDriver ? { driver: cfg.volumeDriver } : {}),
      mode: '',
    });
  }
  return out;
}

/** Parses mount specs a container stored earlier (schema on read, STYLE.md §4). */
export function parseStoredMountSpecs(raw: unknown): MountSpec[] {
  const r = z.array(MountSpecSchema).safeParse(raw);
  if (!r.success) throw new BerthError('internal', `stored mount specs are invalid: ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}
