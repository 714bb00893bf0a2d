import { execFile } from 'child_process';
import { promisify } from 'util';
import * as zlib from 'zlib';
import { pack } from 'tar-stream';

import { MEDIA, RegistryClient, sha256, type Descriptor } from '../../src/adapters/registry/client';
import { attachReport, VERIFICATION_TYPE } from '../../src/publish/attach';
import { Registry } from './support/services';

// The verification report attached to a platform image on Debian's Distribution 2.8, which has no
// referrers API: the referrers tag is what gets written, and clients other than ours read it back.
jest.setTimeout(120_000);

const run = promisify(execFile);
const registry = new Registry();
const repository = 'referrers/worker';
const CREATED = '2026-01-02T03:04:05Z';
let client: RegistryClient;
let subject: Descriptor;

/** A one-file gzipped layer, as a real image has. */
async function tinyLayer(): Promise<{ gz: Buffer; diffId: string }> {
  const p = pack();
  p.entry({ name: 'hello.txt' }, 'verified\n');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const tar = Buffer.concat(chunks);
  return { gz: zlib.gzipSync(tar), diffId: sha256(tar) };
}

/** Pushes a tiny linux/amd64 image by digest, the way publish does (no tag); returns its manifest descriptor. */
async function pushTinyImage(c: RegistryClient): Promise<Descriptor> {
  const layer = await tinyLayer();
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
  await c.putBlob(sha256(config), config, 'config');
  await c.putBlob(sha256(layer.gz), layer.gz, 'layer');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: MEDIA.dockerConfig, digest: sha256(config), size: config.length },
      layers: [{ mediaType: MEDIA.dockerLayerGzip, digest: sha256(layer.gz), size: layer.gz.length }],
    }),
  );
  const digest = await c.putManifest(sha256(manifest), MEDIA.dockerManifest, manifest);
  return { mediaType: MEDIA.dockerManifest, digest, size: manifest.length };
}

const report = (passed: boolean, run: number) => ({
  name: 'default',
  platform: 'linux/amd64',
  variant: 'cpu',
  passed,
  run,
  seen: { torch: '2.2.2', torchaudio: '2.2.2' },
  findings: passed ? [] : ['torch 2.2.1 is not 2.2.2'],
});

/** Plain fetch with Basic auth: an HTTP client that is not ours. */
async function get(path: string, accept?: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const auth = `Basic ${Buffer.from(`${registry.user}:${registry.password}`).toString('base64')}`;
  const r = await fetch(`http://${registry.host}/v2/${repository}/${path}`, { headers: { Authorization: auth, ...(accept ? { Accept: accept } : {}) } });
  return { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
}

const skopeoRaw = async (ref: string) =>
  JSON.parse(
    (
      await run('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        `${registry.user}:${registry.password}`,
        `docker://${registry.host}/${repository}${ref}`,
      ])
    ).stdout,
  );

beforeAll(async () => {
  await registry.start();
  client = new RegistryClient({ registry: registry.host, repository, credentials: { username: registry.user, password: registry.password } });
  subject = await pushTinyImage(client);
});

afterAll(() => registry.stop());

const tag = () => `sha256-${subject.digest.slice('sha256:'.length)}`;
let first: { digest: string };

test('Distribution 2.8 takes the artifact (subject, artifactType, empty config) and, without a referrers API, the referrers tag is written', async () => {
  expect((await get(`referrers/${subject.digest}`)).status).toBe(404);
  const r = await attachReport(client, subject, report(true, 1), { created: CREATED, annotations: { 'org.opencontainers.image.revision': 'abc1234' } });
  expect(r).toEqual({ digest: expect.stringMatching(/^sha256:/), via: 'tag-schema', tag: tag() });
  first = r;
  expect(await registry.tags(repository)).toEqual([tag()]);
});

test('plain HTTP: the referrers tag is an index listing the artifact; the artifact names the image; its layer is the report', async () => {
  const index = await get(`manifests/${tag()}`, MEDIA.ociIndex);
  expect(index.status).toBe(200);
  expect(index.type).toBe(MEDIA.ociIndex);
  expect(JSON.parse(index.body.toString())).toEqual({
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: [
      {
        mediaType: MEDIA.ociManifest,
        digest: first.digest,
        size: expect.any(Number),
        artifactType: VERIFICATION_TYPE,
        annotations: { 'org.opencontainers.image.created': CREATED, 'org.opencontainers.image.revision': 'abc1234' },
      },
    ],
  });

  const art = await get(`manifests/${first.digest}`, MEDIA.ociManifest);
  expect(art.status).toBe(200);
  expect(sha256(art.body)).toBe(first.digest);
  const manifest = JSON.parse(art.body.toString());
  expect(manifest).toMatchObject({ artifactType: VERIFICATION_TYPE, subject, config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2 } });
  const layer = await get(`blobs/${manifest.layers[0].digest}`);
  expect(layer.status).toBe(200);
  expect(JSON.parse(layer.body.toString())).toEqual(report(true, 1));

  // The image the artifact hangs from is untouched.
  const image = await get(`manifests/${subject.digest}`, MEDIA.dockerManifest);
  expect(sha256(image.body)).toBe(subject.digest);
});

test('skopeo reads the referrers tag and the artifact', async () => {
  const index = await skopeoRaw(`:${tag()}`);
  expect(index.manifests.map((d: { digest: string; artifactType: string }) => [d.digest, d.artifactType])).toEqual([[first.digest, VERIFICATION_TYPE]]);
  const art = await skopeoRaw(`@${first.digest}`);
  expect(art.subject.digest).toBe(subject.digest);
});

test('a second run adds its report beside the first; the same report again is not listed twice', async () => {
  const second = await attachReport(client, subject, report(false, 2), { created: '2026-01-03T00:00:00Z' });
  expect(second.digest).not.toBe(first.digest);
  const before = await registry.manifest(repository, tag());
  const again = await attachReport(client, subject, report(true, 1), { created: CREATED, annotations: { 'org.opencontainers.image.revision': 'abc1234' } });
  expect(again).toEqual(first);
  const after = await registry.manifest(repository, tag());
  expect(after.digest).toBe(before.digest);
  expect(after.json.manifests.map((d: { digest: string }) => d.digest)).toEqual([first.digest, second.digest]);

  const viaSkopeo = await skopeoRaw(`:${tag()}`);
  expect(viaSkopeo.manifests).toHaveLength(2);
});
