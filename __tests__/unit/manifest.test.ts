import * as crypto from 'crypto';
import { sha256 as sha256Digest } from '../../src/adapters/registry/client';
import { manifestList, MEDIA, type PlatformManifest } from '../../src/publish/manifest';
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
    { name: 'entries keep order and carry architecture', pick: () => list.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture), want: ['amd64', 'arm64'] },
    { name: 'first entry is complete', pick: () => list.manifests[0], want: { mediaType: MEDIA.dockerManifest, size: 1234, digest: DIGEST_A, platform: { architecture: 'amd64', os: 'linux' } } },
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
