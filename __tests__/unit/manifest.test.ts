import * as crypto from 'crypto';
import { sha256 as sha256Digest } from '../../src/adapters/registry/client';
import { annotateManifest, imageManifest, manifestList, MEDIA, type PlatformManifest } from '../../src/publish/manifest';
import { DIGEST_A, DIGEST_B } from './fixtures';

const entries: PlatformManifest[] = [
  { digest: DIGEST_A, size: 1234, mediaType: MEDIA.dockerManifest, os: 'linux', architecture: 'amd64' },
  { digest: DIGEST_B, size: 987, mediaType: MEDIA.ociManifest, os: 'linux', architecture: 'arm64' },
];

describe('manifestList', () => {
  const list = JSON.parse(manifestList(entries));

  test.each([
    { name: 'schemaVersion is 2', pick: () => list.schemaVersion, want: 2 },
    { name: 'media type is the Docker manifest list', pick: () => list.mediaType, want: 'application/vnd.docker.distribution.manifest.list.v2+json' },
    { name: 'one entry per platform', pick: () => list.manifests.length, want: 2 },
    {
      name: 'entries keep order and carry architecture',
      pick: () => list.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
      want: ['amd64', 'arm64'],
    },
    {
      name: 'first entry is complete',
      pick: () => list.manifests[0],
      want: { mediaType: MEDIA.dockerManifest, size: 1234, digest: DIGEST_A, platform: { architecture: 'amd64', os: 'linux' } },
    },
    { name: 'second entry keeps its own media type', pick: () => list.manifests[1].mediaType, want: 'application/vnd.oci.image.manifest.v1+json' },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });

  test('an empty list has no manifests', () => {
    expect(JSON.parse(manifestList([])).manifests).toEqual([]);
  });
});

describe('sha256 (the manifest digest)', () => {
  test.each([
    { name: 'the empty string (known digest)', body: '', want: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    { name: "'abc' (known digest)", body: 'abc', want: 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    { name: 'a Buffer hashes like its string', body: Buffer.from('abc'), want: 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  ])('$name', ({ body, want }) => {
    expect(sha256Digest(body)).toBe(want);
  });

  test('the digest of a manifest list is the digest of exactly the bytes pushed', () => {
    const body = manifestList(entries);
    expect(sha256Digest(body)).toBe(`sha256:${crypto.createHash('sha256').update(body).digest('hex')}`);
  });
});

describe('manifestList with annotations', () => {
  const annotated = JSON.parse(
    manifestList([{ ...entries[0], annotations: { 'com.acme.tier': 'gpu' } }, entries[1]], { 'org.opencontainers.image.description': 'ASR' }),
  );
  test.each([
    { name: 'becomes an OCI index (the Docker list has no annotations)', pick: () => annotated.mediaType, want: MEDIA.ociIndex },
    { name: 'index annotations on the list', pick: () => annotated.annotations, want: { 'org.opencontainers.image.description': 'ASR' } },
    { name: "an entry's own annotations", pick: () => annotated.manifests[0].annotations, want: { 'com.acme.tier': 'gpu' } },
    { name: 'an entry without any has no annotations key', pick: () => 'annotations' in annotated.manifests[1], want: false },
    { name: 'entries keep their manifests', pick: () => annotated.manifests.map((m: { digest: string }) => m.digest), want: [DIGEST_A, DIGEST_B] },
    {
      name: 'only entry annotations also make an OCI index',
      pick: () => JSON.parse(manifestList([{ ...entries[0], annotations: { a: 'b' } }])).mediaType,
      want: MEDIA.ociIndex,
    },
    {
      name: 'empty annotations keep the Docker list, byte for byte',
      pick: () =>
        manifestList(
          entries.map((e) => ({ ...e, annotations: {} })),
          {},
        ),
      want: manifestList(entries),
    },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });
});

describe('imageManifest (the streamed push)', () => {
  const config = { mediaType: MEDIA.dockerConfig, size: 10, digest: DIGEST_A };
  const layers = [
    { mediaType: MEDIA.dockerLayerGzip, size: 20, digest: DIGEST_B },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 30, digest: DIGEST_A },
  ];
  const plain = imageManifest(config, layers);
  const ann = imageManifest(config, layers, { 'org.opencontainers.image.title': 'worker' });
  const json = (b: Buffer) => JSON.parse(b.toString('utf8'));
  test.each([
    {
      name: 'without annotations: a Docker manifest',
      pick: () => [plain.mediaType, json(plain.body).mediaType],
      want: [MEDIA.dockerManifest, MEDIA.dockerManifest],
    },
    {
      name: 'without annotations: layers under Docker names',
      pick: () => json(plain.body).layers.map((l: { mediaType: string }) => l.mediaType),
      want: [MEDIA.dockerLayerGzip, MEDIA.dockerLayerGzip],
    },
    { name: 'without annotations: no annotations key', pick: () => 'annotations' in json(plain.body), want: false },
    { name: 'with annotations: an OCI manifest', pick: () => [ann.mediaType, json(ann.body).mediaType], want: [MEDIA.ociManifest, MEDIA.ociManifest] },
    {
      name: 'with annotations: the config is the same blob under the OCI name',
      pick: () => json(ann.body).config,
      want: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 10, digest: DIGEST_A },
    },
    {
      name: 'with annotations: layers under OCI names, same blobs',
      pick: () => json(ann.body).layers,
      want: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 20, digest: DIGEST_B },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 30, digest: DIGEST_A },
      ],
    },
    { name: 'with annotations: they are written', pick: () => json(ann.body).annotations, want: { 'org.opencontainers.image.title': 'worker' } },
    {
      name: 'the same input gives the same bytes (a re-push writes the same digest)',
      pick: () => imageManifest(config, layers, { 'org.opencontainers.image.title': 'worker' }).body.equals(ann.body),
      want: true,
    },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });
});

describe('annotateManifest (the containerd store)', () => {
  const stored = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 5, digest: DIGEST_A },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 7, digest: DIGEST_B }],
      annotations: { 'z.own': 'kept', 'a.replaced': 'old' },
    }),
  );
  test('no annotations: the stored bytes unchanged', () => {
    const r = annotateManifest(stored, {});
    expect(r.body).toBe(stored);
    expect(r.configDigest).toBe(DIGEST_A);
  });
  test('annotations merged over the stored ones, sorted; config and layers unchanged', () => {
    const r = annotateManifest(stored, { 'a.replaced': 'new', 'm.added': '1' });
    const j = JSON.parse(r.body.toString('utf8'));
    expect(r.configDigest).toBe(DIGEST_A);
    expect(r.mediaType).toBe(MEDIA.ociManifest);
    expect(j.config).toEqual(JSON.parse(stored.toString()).config);
    expect(j.layers).toEqual(JSON.parse(stored.toString()).layers);
    expect(Object.entries(j.annotations)).toEqual([
      ['a.replaced', 'new'],
      ['m.added', '1'],
      ['z.own', 'kept'],
    ]);
  });
  test('a stored Docker manifest becomes OCI under the same blobs', () => {
    const docker = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.dockerManifest,
        config: { mediaType: MEDIA.dockerConfig, size: 5, digest: DIGEST_A },
        layers: [{ mediaType: MEDIA.dockerLayerGzip, size: 7, digest: DIGEST_B }],
      }),
    );
    const j = JSON.parse(annotateManifest(docker, { k: 'v' }).body.toString('utf8'));
    expect([j.mediaType, j.config.mediaType, j.layers[0].mediaType, j.config.digest, j.layers[0].digest]).toEqual([
      MEDIA.ociManifest,
      'application/vnd.oci.image.config.v1+json',
      'application/vnd.oci.image.layer.v1.tar+gzip',
      DIGEST_A,
      DIGEST_B,
    ]);
  });
});
