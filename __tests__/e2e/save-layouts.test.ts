import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Docker, type DockerStream } from '../../src/adapters/docker';
import { RegistryClient } from '../../src/adapters/registry/client';
import { DEFAULT_POLICY } from '../../src/adapters/registry/retry';
import { Progress } from '../../src/publish/progress';
import { pushLocalImage } from '../../src/publish/push-image';
import { BlobKnowledge } from '../../src/publish/reuse';
import { DOCKER } from './support/env';
import { pullBack } from './support/pullback';
import { Registry } from './support/services';

/*
 * `docker save` writes an OCI layout from Docker 25 on: with the classic image store the layers
 * are uncompressed blobs named by their diff IDs and the image ID is the config digest; with the
 * containerd store (Docker 29's default) the blobs are the stored, compressed ones and the image
 * ID is the manifest digest. This machine's engine (20.10) writes only the legacy layout, so the
 * two layouts are made here with real tools: skopeo copies the engine's image into an OCI archive
 * (layers left uncompressed, or gzip-compressed as a containerd store keeps them), and the
 * manifest.json Docker adds is appended. The action's push reads that archive where it would
 * read `docker save`; the registry is real, and the pushed image is pulled back into an empty
 * engine and run.
 */
jest.setTimeout(5 * 60 * 1000);

const registry = new Registry();
const IMAGE = 'mlib-e2e/oci-layout:amd64';
let work: string;

/** The engine adapter, except that `docker save` of the image is the prepared archive. */
class ArchiveDocker extends Docker {
  constructor(private readonly archive: string) {
    super(DOCKER);
  }
  override async save(): Promise<DockerStream> {
    return { stdout: fs.createReadStream(this.archive), done: Promise.resolve({ code: 0, stderr: '' }), kill: () => undefined };
  }
}

const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const readEntry = (archive: string, name: string) => execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 1 << 30 });

/** An OCI archive of IMAGE made by skopeo, with Docker's manifest.json added. */
function archiveOf(compressed: boolean): { file: string; manifestDigest: string; manifest: any; configDigest: string; config: any } {
  const file = path.join(work, `${compressed ? 'containerd' : 'classic'}.tar`);
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    ...(compressed ? [] : ['--dest-oci-accept-uncompressed-layers']),
    `docker-daemon:${IMAGE}`,
    `oci-archive:${file}`,
  ]);
  const index = JSON.parse(readEntry(file, 'index.json').toString());
  const manifestDigest = index.manifests[0].digest as string;
  const manifestBytes = readEntry(file, `blobs/sha256/${manifestDigest.slice(7)}`);
  expect(sha(manifestBytes)).toBe(manifestDigest);
  const manifest = JSON.parse(manifestBytes.toString());
  const config = JSON.parse(readEntry(file, `blobs/sha256/${manifest.config.digest.slice(7)}`).toString());
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
  return { file, manifestDigest, manifest, configDigest: manifest.config.digest, config };
}

function client(repository: string): RegistryClient {
  return new RegistryClient({
    registry: registry.host,
    repository,
    credentials: { username: registry.user, password: registry.password },
    policy: DEFAULT_POLICY,
  });
}

function pushContext(archive: string, c: RegistryClient, store: 'classic' | 'containerd', log: string[]) {
  return {
    docker: new ArchiveDocker(archive),
    client: c,
    knowledge: new BlobKnowledge(),
    store,
    label: 'linux/amd64',
    progress: new Progress(() => undefined, 0),
    log: (s: string) => log.push(s),
    level: 6,
  };
}

beforeAll(async () => {
  await registry.start();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-layouts-'));
  // A clearly named stub torch (only the versions the probe reads) on the local Debian base.
  const ctx = path.join(work, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM mlib-base/bookworm-python3:amd64',
      'RUN mkdir -p /opt/stub/torch /opt/stub/torchaudio \\',
      ' && printf \'# STUB torch for tests\\n__version__ = "2.2.2+cpu"\\nclass version:\\n    cuda = None\\n\' > /opt/stub/torch/__init__.py \\',
      ' && printf \'# STUB torchaudio for tests\\n__version__ = "2.2.2+cpu"\\n\' > /opt/stub/torchaudio/__init__.py',
      'ENV PYTHONPATH=/opt/stub',
      'RUN head -c 3000000 /dev/urandom > /opt/stub/weights.bin',
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

test('containerd-store layout: the stored blobs and the manifest named by the image ID are pushed as they are', async () => {
  const a = archiveOf(true);
  expect(a.manifest.layers.every((l: { mediaType: string }) => l.mediaType.endsWith('+gzip'))).toBe(true);
  const c = client('layouts/containerd');
  const log: string[] = [];
  const image = { ref: IMAGE, id: a.manifestDigest, diffIds: a.config.rootfs.diff_ids, os: 'linux', architecture: 'amd64' };
  const pushed = await pushLocalImage(pushContext(a.file, c, 'containerd', log), image);

  // The strictest identity: the registry now serves the very manifest the image ID names.
  expect(pushed.digest).toBe(a.manifestDigest);
  const stored = await c.getManifest(a.manifestDigest);
  expect(stored!.body.equals(readEntry(a.file, `blobs/sha256/${a.manifestDigest.slice(7)}`))).toBe(true);
  expect(log.join('\n')).toMatch(/uploaded as stored/);
  expect(log.join('\n')).not.toMatch(/gzip in/); // nothing was compressed again

  const back = await pullBack(registry, 'layouts/containerd', pushed.digest, 'linux/amd64');
  expect(back.probe).toMatchObject({ torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null, machine: 'x86_64' });
  expect(back.diffIds).toEqual(a.config.rootfs.diff_ids);

  // skopeo, a second client, reads the same image.
  const inspected = JSON.parse(
    execFileSync('skopeo', [
      'inspect',
      '--no-tags',
      '--tls-verify=false',
      '--creds',
      `${registry.user}:${registry.password}`,
      `docker://${registry.host}/layouts/containerd@${pushed.digest}`,
    ]).toString(),
  );
  expect(inspected.Digest).toBe(a.manifestDigest);
  expect(inspected.Layers).toEqual(a.manifest.layers.map((l: { digest: string }) => l.digest));

  // Pushed again: the registry has the manifest the image ID names; nothing is read or uploaded.
  const again = await pushLocalImage(pushContext(a.file, c, 'containerd', []), image);
  expect(again.via).toBe('already-in-registry');
  expect(again.digest).toBe(a.manifestDigest);
});

test('classic-store OCI layout (Docker 25+): uncompressed layers named by diff ID are compressed, and the config is the image ID', async () => {
  const a = archiveOf(false);
  expect(a.manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(a.config.rootfs.diff_ids);
  const c = client('layouts/classic');
  const image = { ref: IMAGE, id: a.configDigest, diffIds: a.config.rootfs.diff_ids, os: 'linux', architecture: 'amd64' };
  const pushed = await pushLocalImage(pushContext(a.file, c, 'classic', []), image);

  expect(pushed.configDigest).toBe(a.configDigest);
  const stored = (await c.getManifest(pushed.digest))!.json;
  expect(stored.layers?.every((l: { mediaType: string }) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe(true);
  expect(pushed.learned.map((l) => l.diffId)).toEqual(a.config.rootfs.diff_ids);

  const back = await pullBack(registry, 'layouts/classic', pushed.digest, 'linux/amd64');
  expect(back.id).toBe(a.configDigest);
  expect(back.probe).toMatchObject({ torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null });
});

test('a layout whose config and manifest are not the verified image is refused before anything is tagged', async () => {
  const a = archiveOf(true);
  const c = client('layouts/other');
  const image = { ref: IMAGE, id: `sha256:${'0'.repeat(64)}`, diffIds: a.config.rootfs.diff_ids, os: 'linux', architecture: 'amd64' };
  await expect(pushLocalImage(pushContext(a.file, c, 'containerd', []), image)).rejects.toThrow(
    /neither a config nor a manifest named by the verified image ID sha256:0{64}.*nothing was tagged/,
  );
  expect(await registry.tags('layouts/other')).toEqual([]);
});
