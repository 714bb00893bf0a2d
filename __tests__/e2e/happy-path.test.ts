import { execFile, execFileSync } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';

import { DOCKER } from './support/env';
import { leaks, leftoverContainers, runDist, type ActionRun } from './support/action';
import { pullBack } from './support/pullback';
import { LOCAL_BASE_ARGS, Registry, WheelIndex } from './support/services';

// examples/worker built for both platforms (arm64 under QEMU) from the stub wheel index, verified,
// and published to a real registry with htpasswd auth.
jest.setTimeout(30 * 60 * 1000);
const execFileP = promisify(execFile);

const registry = new Registry();
const index = new WheelIndex();
const token = `tok-${Date.now()}-happy`;
const repository = 'example/worker';
let run: ActionRun;

beforeAll(async () => {
  await Promise.all([registry.start(), index.start()]);
  run = await runDist(
    {
      image: `${registry.host}/Example/Worker`, // upper case on purpose: names are lowercased
      context: 'examples/worker',
      'torch-index-url': index.url,
      network: 'host',
      'build-args': LOCAL_BASE_ARGS,
      'registry-username': registry.user,
      'registry-password': registry.password,
      'worker-token': token,
      // Both platforms side by side (auto would run them one at a time on a 2-core machine).
      parallel: '2',
    },
    { env: { MLIB_PROGRESS_SECONDS: '2' } },
  );
  console.log(`happy path: ${run.seconds.toFixed(1)}s\n${run.summary}`);
});

afterAll(() => {
  registry.stop();
  index.stop();
});

test('the run succeeds', () => {
  if (run.code !== 0) console.log(run.output.slice(-4000));
  expect(run.code).toBe(0);
  expect(run.postCode).toBe(0);
});

test('both platforms ran side by side, each printed as one group of its own lines, and both passed every default check', () => {
  expect(run.output).toMatch(/building and verifying 2 platforms, 2 at a time/);
  // While both run, a progress line per platform outside the groups: its time and its last line.
  const outside = run.output.replace(/::group::[\s\S]*?::endgroup::/g, '');
  expect(outside).toMatch(/^linux\/arm64: \d+s; \S/m);
  expect(outside).toMatch(/^linux\/amd64: \d+s; \S/m);
  const groups = [...run.output.matchAll(/::group::Build and verify (linux\/\w+) \((native|emulated), \d+s\)\n([\s\S]*?)::endgroup::/g)];
  expect(groups.map((g) => g[1]).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  for (const [, platform, , body] of groups) {
    const other = platform === 'linux/amd64' ? 'linux/arm64' : 'linux/amd64';
    expect(body).toContain(`--platform ${platform}`);
    expect(body).not.toContain(`--platform ${other}`);
    expect(body).toMatch(new RegExp(`${platform.replace('/', '\\/')}: verified torch`));
  }
  for (const r of JSON.parse(run.outputs.report)) {
    expect(r.findings).toEqual([]);
    expect(r.hygiene).toMatchObject({ user: 'worker', uid: 10001, modelCache: '/models', cacheWritable: true, offline: true });
    expect(r.hygiene.healthySeconds).toBeGreaterThan(0);
  }
});

test('each platform image carries its verification report as an OCI artifact, read back by skopeo and plain HTTP, equal to the report output', async () => {
  const entries = JSON.parse(run.outputs.report);
  const latest = await registry.manifest(repository, 'latest');
  expect((await registry.referrerTags(repository)).sort()).toEqual(latest.json.manifests.map((m: { digest: string }) => m.digest.replace(':', '-')).sort());
  const auth = { Authorization: `Basic ${Buffer.from(`${registry.user}:${registry.password}`).toString('base64')}` };
  for (const entry of entries) {
    expect(entry.referrer).toMatchObject({ via: 'tag-schema', tag: entry.digest.replace(':', '-') });
    // Debian's skopeo, not our client, reads the referrers index under the fallback tag.
    const { stdout } = await execFileP('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${registry.user}:${registry.password}`,
      `docker://${registry.host}/${repository}:${entry.referrer.tag}`,
    ]);
    const index = JSON.parse(stdout);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: entry.referrer.digest, artifactType: 'application/vnd.ml-image-build.verification.v1+json' }),
    ]);

    const artifact: any = await (
      await fetch(`http://${registry.host}/v2/${repository}/manifests/${entry.referrer.digest}`, {
        headers: { ...auth, Accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json();
    expect(artifact.subject.digest).toBe(entry.digest);
    const attached = await registry.blob(repository, artifact.layers[0].digest);
    const { push: _push, referrer: _referrer, ...verified } = entry;
    expect(attached).toMatchObject({ ...verified, action: { name: 'ml-image-build', version: '1.0.0' } });
  }
});

test('a build of the next commit (new BUILD_COMMIT and BUILD_TIME) reuses the torch install layer of the example', async () => {
  const next = await runDist(
    {
      image: `${registry.host}/example/worker`,
      context: 'examples/worker',
      'torch-index-url': index.url,
      network: 'host',
      'build-args': LOCAL_BASE_ARGS,
      platforms: 'linux/amd64',
      push: 'false',
      'worker-token': token,
    },
    { github: { GITHUB_SHA: 'fedcba9876543210fedcba9876543210fedcba98' } },
  );
  expect(next.code).toBe(0);
  expect(next.output).toMatch(/--build-arg BUILD_COMMIT=fedcba9/);
  // BuildKit numbers its steps: the torch install's step is reported CACHED, not run again.
  const step = /^#(\d+) \[[^\]]*\] RUN test -n .* pip install /m.exec(next.output);
  expect(step).not.toBeNull();
  expect(next.output).toMatch(new RegExp(`^#${step![1]} CACHED`, 'm'));
  expect(next.output).not.toMatch(/::warning file=.*Dockerfile.*ARG BUILD_/);
});

test('the registry has one manifest list with linux/amd64 and linux/arm64 under both tags, and no other tag', async () => {
  expect((await registry.imageTags(repository)).sort()).toEqual(['0123456', 'latest']);
  const latest = await registry.manifest(repository, 'latest');
  const bySha = await registry.manifest(repository, '0123456');
  expect(latest.digest).toBe(bySha.digest);
  expect(latest.digest).toBe(run.outputs.digest);
  expect(latest.json.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
  const platforms = latest.json.manifests.map((m: { platform: { os: string; architecture: string } }) => `${m.platform.os}/${m.platform.architecture}`);
  expect(platforms.sort()).toEqual(['linux/amd64', 'linux/arm64']);
  // Each entry really is an image of its platform, not just labelled so in the list.
  for (const m of latest.json.manifests) {
    const image = await registry.manifest(repository, m.digest);
    const config = await registry.blob(repository, image.json.config.digest);
    expect(config.architecture).toBe(m.platform.architecture);
    expect(config.config.Labels['io.ml-image-build.torch.variant']).toBe(m.platform.architecture === 'amd64' ? 'cu121' : 'cpu');
    // The pushed image is the verified one: its config digest is the verified local image ID.
    const verified = JSON.parse(run.outputs.report).find((r: { platform: string }) => r.platform === `linux/${m.platform.architecture}`);
    expect(image.json.config.digest).toBe(verified.imageId);
  }
});

test.each(['linux/amd64', 'linux/arm64'])('%s pulled back by digest into an empty engine runs and reports the verified torch', async (platform) => {
  const entry = JSON.parse(run.outputs.report).find((r: { platform: string }) => r.platform === platform);
  const back = await pullBack(registry, repository, entry.digest, platform);
  expect(back.architecture).toBe(platform.split('/')[1]);
  expect(back.id).toBe(entry.imageId);
  expect(back.probe).toMatchObject(entry.seen);
});

test('the run removed its local tags and temp dirs (post step)', () => {
  const report = JSON.parse(run.outputs.report) as Array<{ image: string }>;
  for (const r of report) {
    expect(r.image).toMatch(/-run\d+-1-\d+$/);
    expect(() => execFileSync(DOCKER, ['image', 'inspect', r.image], { stdio: 'pipe' })).toThrow();
  }
  expect(run.postOutput).toContain("removed the run's local image tag(s)");
});

test('the report shows the exact versions seen in each image', () => {
  const report = JSON.parse(run.outputs.report);
  expect(report.map((r: { platform: string; passed: boolean; seen: unknown }) => [r.platform, r.passed, r.seen])).toEqual([
    ['linux/amd64', true, { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1', machine: 'x86_64' }],
    ['linux/arm64', true, { torch: '2.2.2', torchaudio: '2.2.2', cuda: null, machine: 'aarch64' }],
  ]);
  for (const r of report) {
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.ping.body).toMatchObject({ status: 'ok', version: '0123456', gpu: false, activeJobs: 0 });
  }
  expect(run.outputs.tags.split('\n')).toEqual([`${registry.host}/example/worker:0123456`, `${registry.host}/example/worker:latest`]);
});

test('the job summary has a row per platform and the published digest', () => {
  expect(run.summary).toMatch(/\| linux\/amd64 \| cu121 \| 2\.2\.2\+cu121 \| 2\.2\.2\+cu121 \| 12\.1 \| 200 \|.*\| passed \|/);
  expect(run.summary).toMatch(/\| linux\/arm64 \| cpu \| 2\.2\.2 \| 2\.2\.2 \| none \| 200 \|.*\| passed \|/);
  expect(run.summary).toContain(run.outputs.digest);
});

test('no container is left, secrets stay masked, no credentials written to disk', () => {
  expect(leftoverContainers()).toEqual([]);
  // Both secrets are registered with the runner for masking, and appear nowhere else.
  expect(run.output).toContain(`::add-mask::${token}`);
  expect(run.output).toContain(`::add-mask::${registry.password}`);
  expect(leaks(run.output + run.postOutput, token)).toEqual([]);
  expect(leaks(run.output + run.postOutput, registry.password)).toEqual([]);
  const dockerConfig = path.join(process.env.HOME ?? '/root', '.docker/config.json');
  const auths = fs.existsSync(dockerConfig) ? Object.keys(JSON.parse(fs.readFileSync(dockerConfig, 'utf8')).auths ?? {}) : [];
  expect(auths).not.toContain(registry.host);
});
