// zod schemas for the image formats berth reads: OCI/Docker manifests and indexes, image
// configs, docker-archive `manifest.json`/`repositories`, OCI `index.json`/`oci-layout`.
// Everything read from a blob or an archive goes through one of these (STYLE.md §4).
import { z } from 'zod';
import { invalidArgument, isDigest, type Digest } from '../util/index.js';
import { CONFIG_TYPES, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES } from './media-types.js';

export const digestSchema = z.string().refine(isDigest, { message: 'expected sha256:<64 hex digits>' }).transform((s) => s as Digest);

export const platformSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
});
export type Platform = z.infer<typeof platformSchema>;

const annotations = z.record(z.string(), z.string()).optional();

export const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations,
  platform: platformSchema.optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  annotations,
});
export type Manifest = z.infer<typeof manifestSchema>;

export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  annotations,
});
export type ImageIndex = z.infer<typeof indexSchema>;

const emptyObjectMap = z.record(z.string(), z.object({}).loose()).nullish();

export const healthcheckSchema = z.object({
  Test: z.array(z.string()).nullish(),
  Interval: z.number().optional(),
  Timeout: z.number().optional(),
  StartPeriod: z.number().optional(),
  StartInterval: z.number().optional(),
  Retries: z.number().optional(),
});

/** The `config` part of an image config: defaults for containers (Docker spelling, as on disk). */
export const containerConfigSchema = z
  .object({
    User: z.string().optional(),
    ExposedPorts: emptyObjectMap,
    Env: z.array(z.string()).nullish(),
    Entrypoint: z.array(z.string()).nullish(),
    Cmd: z.array(z.string()).nullish(),
    Volumes: emptyObjectMap,
    WorkingDir: z.string().optional(),
    Labels: z.record(z.string(), z.string()).nullish(),
    StopSignal: z.string().optional(),
    ArgsEscaped: z.boolean().optional(),
    Healthcheck: healthcheckSchema.nullish(),
    OnBuild: z.array(z.string()).nullish(),
    Shell: z.array(z.string()).nullish(),
  })
  .loose();
export type ContainerConfig = z.infer<typeof containerConfigSchema>;

export const historySchema = z
  .object({
    created: z.string().optional(),
    created_by: z.string().optional(),
    author: z.string().optional(),
    comment: z.string().optional(),
    empty_layer: z.boolean().optional(),
  })
  .loose();
export type HistoryEntry = z.infer<typeof historySchema>;

/** An image config (OCI image-spec config.md plus Docker's extra fields, kept as they are). */
export const imageConfigSchema = z
  .object({
    created: z.string().optional(),
    author: z.string().optional(),
    architecture: z.string(),
    os: z.string(),
    'os.version': z.string().optional(),
    'os.features': z.array(z.string()).optional(),
    variant: z.string().optional(),
    config: containerConfigSchema.nullish(),
    rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(digestSchema) }),
    history: z.array(historySchema).optional(),
    comment: z.string().optional(),
    docker_version: z.string().optional(),
    parent: z.string().optional(),
  })
  .loose();
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** One entry of docker-archive `manifest.json`. */
export const archiveManifestEntrySchema = z.object({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()),
  LayerSources: z.record(z.string(), descriptorSchema).optional(),
});
export const archiveManifestSchema = z.array(archiveManifestEntrySchema);
export type ArchiveManifestEntry = z.infer<typeof archiveManifestEntrySchema>;

/** docker-archive `repositories`: `{ repo: { tag: id } }`. */
export const repositoriesSchema = z.record(z.string(), z.record(z.string(), z.string()));

export const ociLayoutSchema = z.object({ imageLayoutVersion: z.string() });

/** Parses JSON bytes with `schema`; errors name `what` and the first issue. */
export function parseJson<T>(schema: z.ZodType<T>, bytes: Uint8Array | string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw invalidArgument(`invalid JSON in ${what}: ${(e as Error).message}`, e);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw invalidArgument(`invalid ${what}${where}: ${issue?.message ?? 'does not match the schema'}`);
  }
  return r.data;
}

export type ManifestKind = 'manifest' | 'index';

/** Classifies a manifest-like blob by its media type; unknown types are rejected with the type named. */
export function manifestKindOf(mediaType: string | undefined, raw: unknown): ManifestKind {
  if (mediaType && MANIFEST_TYPES.has(mediaType)) return 'manifest';
  if (mediaType && INDEX_TYPES.has(mediaType)) return 'index';
  if (mediaType === undefined && typeof raw === 'object' && raw !== null) {
    // OCI allows omitting mediaType: decide by shape.
    if ('manifests' in raw) return 'index';
    if ('config' in raw && 'layers' in raw) return 'manifest';
  }
  throw invalidArgument(`unsupported media type "${mediaType ?? '(none)'}" for a manifest`);
}

export function assertLayerMediaType(mediaType: string): void {
  if (!LAYER_TYPES.has(mediaType)) throw invalidArgument(`unsupported media type "${mediaType}" for a layer`);
}

export function assertConfigMediaType(mediaType: string): void {
  if (!CONFIG_TYPES.has(mediaType)) throw invalidArgument(`unsupported media type "${mediaType}" for an image config`);
}
