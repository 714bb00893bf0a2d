import { execFile } from 'child_process';
import * as fs from 'fs';
import { promisify } from 'util';
import { leftoverContainers, runDist, type ActionRun } from './support/action';
import { faultyInputs, faultyWorkerContext } from './support/faulty-worker';
import { pullBack } from './support/pullback';
import { Registry, WheelIndex } from './support/services';

/*
 * What a step moved over from docker/metadata-action + docker/build-push-action passes: the
 * metadata-action outputs (IMAGE:TAG lines, key=value labels, annotations) and provenance: false,
 * through the bundled dist/ against the real registry. One platform (linux/amd64) of the fault
 * fixture with no fault on keeps it quick; what was pushed is read back with skopeo (not our client).
 */
jest.setTimeout(5 * 60 * 1000);
const execFileP = promisify(execFile);

const registry = new Registry();
const index = new WheelIndex();
const context = faultyWorkerContext();
const token = `tok-${Date.now()}-meta`;
const repository = 'meta/worker';

const ANNOTATIONS = [
  'index:org.opencontainers.image.description=ASR worker, pinned torch',
  'manifest:org.opencontainers.image.title=speech worker',
  'manifest[linux/amd64]:com.acme.board=x86',
  'manifest-descriptor:com.acme.tier=cpu',
].join('\n');

const inputsFor = (repo: string, extra: Record<string, string>) =>
  faultyInputs(registry, index, context, repo, { platforms: 'linux/amd64', 'torch-variants': 'linux/amd64=cpu', ...extra }, token);

/** The metadata-action outputs of a tag push of v1.2.3, for this registry. */
const metadata = () => ({
  tags: `${registry.host}/${repository}:1.2.3\n${registry.host}/${repository}:1.2`,
  'tag-rules': 'none',
  labels:
    'org.opencontainers.image.title=Speech worker\norg.opencontainers.image.version=1.2.3\norg.opencontainers.image.description=\ncom.acme.team=speech=asr',
  annotations: ANNOTATIONS,
  provenance: 'false',
  sbom: 'false',
});

async function raw(ref: string): Promise<any> {
  const { stdout } = await execFileP('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    '--creds',
    `${registry.user}:${registry.password}`,
    `docker://${registry.host}/${repository}${ref}`,
  ]);
  return JSON.parse(stdout);
}

let first: ActionRun;

beforeAll(async () => {
  await Promise.all([registry.start(), index.start()]);
  first = await runDist(inputsFor(repository, metadata()));
  if (first.code !== 0) console.log(first.output.slice(-4000));
});

afterAll(() => {
  registry.stop();
  index.stop();
  fs.rmSync(context, { recursive: true, force: true });
});

afterEach(() => expect(leftoverContainers()).toEqual([]));

test("metadata-action's IMAGE:TAG lines publish exactly those tags", async () => {
  expect(first.code).toBe(0);
  expect((await registry.imageTags(repository)).sort()).toEqual(['1.2', '1.2.3']);
  expect(first.outputs.tags.split('\n').sort()).toEqual([`${registry.host}/${repository}:1.2`, `${registry.host}/${repository}:1.2.3`]);
});

test('index and manifest-descriptor annotations are on the list, manifest annotations on the platform image, whose config is the verified image', async () => {
  const list = await raw(':1.2.3');
  expect(list.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  expect(list.annotations).toEqual({ 'org.opencontainers.image.description': 'ASR worker, pinned torch' });
  expect(list.manifests).toHaveLength(1);
  expect(list.manifests[0].annotations).toEqual({ 'com.acme.tier': 'cpu' });
  const image = await raw(`@${list.manifests[0].digest}`);
  expect(image.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  expect(image.annotations).toEqual({ 'com.acme.board': 'x86', 'org.opencontainers.image.title': 'speech worker' });
  const [report] = JSON.parse(first.outputs.report);
  expect(image.config.digest).toBe(report.imageId);
  expect(list.manifests[0].digest).toBe(report.digest);
  // The OCI-typed manifest of the same blobs is one an engine pulls and runs as the verified image.
  const back = await pullBack(registry, repository, report.digest, 'linux/amd64');
  expect(back.id).toBe(report.imageId);
  expect(back.probe).toMatchObject(report.seen);
});

test("labels are merged into the pushed config: the user's OCI keys win, an empty one removes, the torch labels stand", async () => {
  const list = await raw(':1.2.3');
  const image = await raw(`@${list.manifests[0].digest}`);
  const config = await registry.blob(repository, image.config.digest);
  const labels = config.config.Labels as Record<string, string>;
  expect(labels).toMatchObject({
    'org.opencontainers.image.title': 'Speech worker',
    'org.opencontainers.image.version': '1.2.3',
    'com.acme.team': 'speech=asr',
    'io.ml-image-build.torch.variant': 'cpu',
    'io.ml-image-build.platform': 'linux/amd64',
  });
  expect(labels['io.ml-image-build.torch.version']).toBeTruthy();
  expect(labels).not.toHaveProperty('org.opencontainers.image.description');
  expect(JSON.parse(first.outputs.plan)[0].labels['org.opencontainers.image.title']).toBe('Speech worker');
});

test('a second run of unchanged code reuses every layer (nothing uploaded) and writes the annotated manifest of the new verified config', async () => {
  const again = await runDist(inputsFor(repository, metadata()));
  expect(again.code).toBe(0);
  // A new BUILD_TIME and created label make a new config; the layers are the same.
  const [after] = JSON.parse(again.outputs.report);
  expect(after.push).toMatchObject({ uploaded: 0, bytesSent: 0 });
  expect(after.push.reused).toBe(after.push.layers);
  const list = await raw(':1.2.3');
  expect(list.manifests.map((m: { digest: string }) => m.digest)).toEqual([after.digest]);
  const image = await raw(`@${after.digest}`);
  expect(image.config.digest).toBe(after.imageId);
  expect(image.annotations).toEqual({ 'com.acme.board': 'x86', 'org.opencontainers.image.title': 'speech worker' });
  expect(list.annotations).toEqual({ 'org.opencontainers.image.description': 'ASR worker, pinned torch' });
});

test.each([
  {
    name: 'a tags line of another repository',
    extra: () => ({ tags: `${registry.host}/meta/other:1` }),
    says: [`Input 'tags': '${'HOST'}/meta/other:1' names the repository`, 'this action pushes to one image'],
  },
  { name: 'provenance: true', extra: () => ({ provenance: 'true' }), says: ["Input 'provenance'", 'actions/attest-build-provenance'] },
])('$name is refused before any build, and nothing is pushed', async ({ extra, says }) => {
  const repo = 'meta/refused';
  const r = await runDist(inputsFor(repo, { tags: 'v1', ...extra() }));
  expect(r.code).not.toBe(0);
  for (const s of says) expect(r.output).toContain(s.replace('HOST', registry.host));
  expect(r.output).not.toMatch(/--platform linux\/amd64/);
  expect(await registry.tags(repo)).toEqual([]);
  expect(await registry.tags('meta/other')).toEqual([]);
});
