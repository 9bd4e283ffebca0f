import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256Digest } from '../util/index.js';
import { MediaType, compressionOf } from './media-types.js';
import { formatPlatform, parsePlatform, platformMatches, selectManifest } from './platform.js';
import { archiveManifestSchema, imageConfigSchema, manifestKindOf, manifestSchema, parseJson } from './schemas.js';

const d = (s: string) => sha256Digest(s);

test('an image config with history and diff_ids parses and keeps unknown fields', () => {
  const cfg = parseJson(
    imageConfigSchema,
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'], Env: ['A=1'], ExposedPorts: { '80/tcp': {} } },
      rootfs: { type: 'layers', diff_ids: [d('a')] },
      history: [{ created_by: 'x', empty_layer: true }],
      container_config: { Hostname: 'h' },
    }),
    'image config',
  );
  assert.deepEqual(cfg.config?.Cmd, ['sh']);
  assert.equal(cfg.rootfs.diff_ids[0], d('a'));
  assert.deepEqual((cfg as Record<string, unknown>)['container_config'], { Hostname: 'h' });
});

test('a config whose diff_ids are not digests is rejected naming the field', () => {
  assert.throws(
    () => parseJson(imageConfigSchema, '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["nope"]}}', 'image config'),
    /invalid image config at rootfs\.diff_ids\.0/,
  );
});

test('malformed JSON is an invalid-argument naming the file', () => {
  assert.throws(() => parseJson(archiveManifestSchema, '[{', 'manifest.json'), /invalid JSON in manifest\.json/);
});

test('manifests are told from indexes by media type or by shape, and unknown types are rejected', () => {
  assert.equal(manifestKindOf(MediaType.dockerManifest, {}), 'manifest');
  assert.equal(manifestKindOf(MediaType.ociIndex, {}), 'index');
  assert.equal(manifestKindOf(undefined, { manifests: [] }), 'index');
  assert.throws(() => manifestKindOf('application/x-foo', {}), /unsupported media type "application\/x-foo"/);
  const m = manifestSchema.parse({
    schemaVersion: 2,
    config: { mediaType: MediaType.ociConfig, digest: d('c'), size: 1 },
    layers: [],
  });
  assert.equal(m.layers.length, 0);
});

test('compression is detected from magic bytes', () => {
  assert.equal(compressionOf(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.equal(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(compressionOf(Buffer.from('ustar')), 'none');
});

test('platform strings parse and normalise architecture aliases', () => {
  assert.equal(formatPlatform(parsePlatform('linux/x86_64')), 'linux/amd64');
  assert.equal(formatPlatform(parsePlatform('linux/arm/v7')), 'linux/arm/v7');
  assert.equal(formatPlatform(parsePlatform('linux/arm64/v8')), 'linux/arm64');
  assert.throws(() => parsePlatform('linux//x'), /invalid platform/);
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'aarch64', variant: 'v8' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }));
});

test('selectManifest prefers an exact variant, then a compatible one, and errors naming the platform', () => {
  const desc = (architecture: string, variant?: string) => ({
    mediaType: MediaType.ociManifest,
    digest: d(architecture + (variant ?? '')),
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const list = [desc('arm', 'v6'), desc('arm', 'v7'), desc('amd64'), desc('arm64', 'v8')];
  assert.equal(selectManifest(list, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, d('armv7'));
  assert.equal(selectManifest(list, { os: 'linux', architecture: 'amd64' }).digest, d('amd64'));
  assert.equal(selectManifest(list, { os: 'linux', architecture: 'arm64' }).digest, d('arm64v8'));
  assert.throws(() => selectManifest(list, { os: 'linux', architecture: 's390x' }), /no matching manifest for linux\/s390x/);
});
