import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Docker, type DockerStream } from '../../src/adapters/docker';
import { RegistryClient, MEDIA } from '../../src/adapters/registry/client';
import { DEFAULT_POLICY } from '../../src/adapters/registry/retry';
import { manifestList } from '../../src/publish/manifest';
import { Progress } from '../../src/publish/progress';
import { pushLocalImage, type PushedImage } from '../../src/publish/push-image';
import { BlobKnowledge } from '../../src/publish/reuse';
import { alignHistory, checkSize, layerOrigins, measureCompressed, parseSizeBudget, publishedSizes, type MeasuredImage } from '../../src/verify/size';
import { DOCKER } from './support/env';
import { Registry } from './support/services';

/*
 * The size check measures a local image as our push would send it, without pushing. The other
 * route to the same numbers is the push itself, to the real registry: every layer's blob there
 * must have exactly the size (and digest) the measure gave. The engine here is 20.10, whose
 * `docker save` is the legacy layout; the two OCI layouts (Docker 25+ classic store, and the
 * containerd store's compressed blobs) are made with skopeo, as in save-layouts.test.ts.
 */
jest.setTimeout(5 * 60 * 1000);

const registry = new Registry();
const BASE = 'mlib-base/bookworm-python3:amd64';
const IMAGE = 'mlib-e2e/size-layers:amd64';
let work: string;
const docker = new Docker(DOCKER);

function client(repository: string): RegistryClient {
  return new RegistryClient({
    registry: registry.host,
    repository,
    credentials: { username: registry.user, password: registry.password },
    policy: DEFAULT_POLICY,
  });
}

async function push(
  ref: string,
  repository: string,
): Promise<{
  pushed: PushedImage;
  manifest: { config: { size: number; digest: string }; layers: Array<{ size: number; digest: string }> };
  c: RegistryClient;
}> {
  const c = client(repository);
  const inspected = await docker.inspectImage(ref);
  const ctx = {
    docker,
    client: c,
    knowledge: new BlobKnowledge(),
    store: 'classic' as const,
    label: 'linux/amd64',
    progress: new Progress(() => undefined, 0),
    log: () => undefined,
    level: 6,
  };
  const pushed = await pushLocalImage(ctx, { ref, ...inspected });
  const { config, layers } = (await c.getManifest(pushed.digest))!.json;
  return { pushed, manifest: { config: config!, layers: layers! }, c };
}

/** What the registry holds, layer by layer, next to what the measure said. */
const pairs = (m: MeasuredImage, manifest: { layers: Array<{ size: number; digest: string }> }) => ({
  measured: m.layers.map((l) => ({ size: l.compressed, digest: l.digest })),
  pushed: manifest.layers.map((l) => ({ size: l.size, digest: l.digest })),
});

beforeAll(async () => {
  await registry.start();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-size-'));
  // Layers of every kind: random bytes (incompressible), text (compressible), a COPY, and three
  // layers of 0 bytes (a new WORKDIR, an existing one, a RUN that only deletes).
  const ctx = path.join(work, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(path.join(ctx, 'notes.txt'), 'weights are baked in at build time\n'.repeat(20000));
  fs.writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${BASE}`,
      'RUN head -c 3000000 /dev/urandom > /opt/weights.bin && seq 1 200000 > /opt/index.txt',
      'COPY notes.txt /srv/',
      'ENV MODEL_DIR=/opt',
      'WORKDIR /srv/app',
      'WORKDIR /srv',
      'RUN rm /opt/index.txt',
      '',
    ].join('\n'),
  );
  execFileSync(DOCKER, ['build', '-q', '-t', IMAGE, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1' } });
});

afterAll(() => {
  registry.stop();
  fs.rmSync(work, { recursive: true, force: true });
  execFileSync(DOCKER, ['image', 'rm', IMAGE], { stdio: 'ignore' });
});

test('the base image: the measured compressed size of its layer is what the push uploads, byte for byte', async () => {
  const m = await measureCompressed(docker, BASE, 6);
  const { manifest } = await push(BASE, 'size/base');
  const p = pairs(m, manifest);
  expect(p.measured).toEqual(p.pushed);
  expect(m.config).toBe(manifest.config.size);
  expect(m.compressed).toBe(manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0));
  expect(m.platform).toBe('linux/amd64');
  expect(m.store).toBe('classic');
  // The uncompressed size is the layer tar: at least the files' bytes docker history counts.
  expect(m.uncompressed).toBeGreaterThan(230319197);
  console.log(
    `measureCompressed ${BASE}: ${m.layers.length} layer(s), ${m.uncompressed} bytes of tar -> ${m.compressed} bytes compressed (level 6) in ${m.seconds.toFixed(2)}s`,
  );
});

test('a BuildKit image of six layers: every layer as pushed, the published list read back, no growth', async () => {
  const m = await measureCompressed(docker, IMAGE, 6);
  expect(m.layers).toHaveLength(6);
  const { pushed, manifest, c } = await push(IMAGE, 'size/layers');
  const p = pairs(m, manifest);
  expect(p.measured).toEqual(p.pushed);
  expect(m.compressed).toBe(manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0));
  // The diff IDs are the engine's, in order: the measure hashed nothing it did not have to.
  expect(m.layers.map((l) => l.diffId)).toEqual((await docker.inspectImage(IMAGE)).diffIds);

  // Nothing under `latest` yet: a first release.
  expect(await publishedSizes(c, 'latest')).toBeUndefined();
  // Published as the action publishes: a manifest list under the tag.
  const list = Buffer.from(manifestList([{ digest: pushed.digest, size: pushed.size, mediaType: pushed.mediaType, os: 'linux', architecture: 'amd64' }]));
  await c.putManifest('latest', MEDIA.dockerList, list);
  const published = await publishedSizes(c, 'latest');
  expect(published).toEqual({
    ref: `${registry.host}/size/layers:latest`,
    digest: `sha256:${crypto.createHash('sha256').update(list).digest('hex')}`,
    platforms: { 'linux/amd64': { digest: pushed.digest, compressed: m.compressed, config: manifest.config.size, layers: manifest.layers.map((l) => l.size) } },
  });

  const { findings, report } = checkSize(m, parseSizeBudget('compressed=100MB growth=0%'), published, 2);
  expect(findings).toEqual([]);
  expect(report.growthPercent).toBe(0);
  expect(report.largestLayers.map((l) => [l.index, l.instruction])).toEqual([
    [1, 'ADD rootfs.tar /'],
    [2, 'RUN head -c 3000000 /dev/urandom > /opt/weights.bin && seq 1 200000 > /opt/index.txt'],
  ]);
  // The cheap route, `docker history` (no docker save), pairs every layer of this BuildKit image
  // with the same step as the config's exact history does.
  const exact = alignHistory(
    m.history,
    m.layers.map((l) => l.diffId),
  ).map((l) => l.instruction);
  expect(exact).toEqual([
    'ADD rootfs.tar /',
    'RUN head -c 3000000 /dev/urandom > /opt/weights.bin && seq 1 200000 > /opt/index.txt',
    'COPY notes.txt /srv/',
    'WORKDIR /srv/app',
    'WORKDIR /srv',
    'RUN rm /opt/index.txt',
  ]);
  expect((await layerOrigins(docker, IMAGE, (await docker.inspectImage(IMAGE)).diffIds)).map((l) => l.instruction)).toEqual(exact);

  // A tag naming one image manifest, not a list.
  await c.putManifest('single', pushed.mediaType, (await c.getManifest(pushed.digest))!.body);
  expect((await publishedSizes(c, 'single'))?.single?.compressed).toBe(m.compressed);
});

/** The engine adapter, except that the image is the archive, under the ID a Docker 25+/29 engine would give. */
class ArchiveDocker extends Docker {
  constructor(
    private readonly archive: string,
    private readonly id: string,
  ) {
    super(DOCKER);
  }
  override async save(): Promise<DockerStream> {
    return { stdout: fs.createReadStream(this.archive), done: Promise.resolve({ code: 0, stderr: '' }), kill: () => undefined };
  }
  override async inspectImage(ref: string) {
    return { ...(await new Docker(DOCKER).inspectImage(ref)), id: this.id };
  }
}

const readEntry = (archive: string, name: string) => execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 1 << 30 });

/** An OCI archive of IMAGE made by skopeo, with Docker's manifest.json added (as save-layouts.test.ts does). */
function archiveOf(compressed: boolean): {
  file: string;
  manifestDigest: string;
  manifest: { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number; mediaType: string }> };
} {
  const file = path.join(work, `${compressed ? 'containerd' : 'classic'}.tar`);
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    ...(compressed ? [] : ['--dest-oci-accept-uncompressed-layers']),
    `docker-daemon:${IMAGE}`,
    `oci-archive:${file}`,
  ]);
  const manifestDigest = JSON.parse(readEntry(file, 'index.json').toString()).manifests[0].digest as string;
  const manifest = JSON.parse(readEntry(file, `blobs/sha256/${manifestDigest.slice(7)}`).toString());
  const dockerManifest = [
    {
      Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
      RepoTags: [IMAGE],
      Layers: manifest.layers.map((l: { digest: string }) => `blobs/sha256/${l.digest.slice(7)}`),
    },
  ];
  const dir = fs.mkdtempSync(path.join(work, 'mj-'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(dockerManifest));
  execFileSync('tar', ['-rf', file, '-C', dir, 'manifest.json']);
  return { file, manifestDigest, manifest };
}

test('the OCI layouts of Docker 25+: the classic store gives the same sizes as the legacy layout, the containerd store its stored blobs', async () => {
  const legacy = await measureCompressed(docker, IMAGE, 6);

  const classic = archiveOf(false);
  const fromClassic = await measureCompressed(new ArchiveDocker(classic.file, classic.manifest.config.digest), IMAGE, 6);
  expect(fromClassic.store).toBe('classic');
  expect(fromClassic.layers).toEqual(legacy.layers);

  const stored = archiveOf(true);
  expect(stored.manifest.layers.every((l) => l.mediaType.endsWith('+gzip'))).toBe(true);
  const fromStore = await measureCompressed(new ArchiveDocker(stored.file, stored.manifestDigest), IMAGE, 6);
  expect(fromStore.store).toBe('containerd');
  expect(fromStore.layers.map((l) => ({ size: l.compressed, digest: l.digest }))).toEqual(
    stored.manifest.layers.map((l) => ({ size: l.size, digest: l.digest })),
  );
  expect(fromStore.config).toBe(stored.manifest.config.size);
  // Unpacked, the stored blobs are the same layer tars the classic store saves.
  expect(fromStore.layers.map((l) => l.uncompressed)).toEqual(legacy.layers.map((l) => l.uncompressed));
  expect(fromStore.layers.map((l) => l.diffId)).toEqual(legacy.layers.map((l) => l.diffId));
});

test('a cancelled measure stops reading docker save and says so', async () => {
  const abort = new AbortController();
  const measuring = measureCompressed(docker, BASE, 6, abort.signal);
  setTimeout(() => abort.abort(), 300);
  await expect(measuring).rejects.toThrow(/linux\/amd64: reading docker save of mlib-base\/bookworm-python3:amd64 was cancelled/);
});
