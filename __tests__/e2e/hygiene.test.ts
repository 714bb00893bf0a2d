import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { leaks, leftoverContainers, runDist, type ActionRun } from './support/action';
import { DOCKER, ROOT, workspaceTempDir } from './support/env';
import { faultyInputs, faultyWorkerContext } from './support/faulty-worker';
import { Registry, WheelIndex } from './support/services';

// Container hygiene: images that answer their ping and carry the right torch, but would fail in
// production (shared/seeds 000-002). Each is refused before publishing, naming platform, check,
// expected and actual; nothing is pushed and no container, volume or network is left.
jest.setTimeout(30 * 60 * 1000);

const registry = new Registry();
const index = new WheelIndex();
let context: string;
/** A "model server" on Docker's default bridge: reachable with the network on, not offline. */
const MODEL_SERVER = `mlib-test-model-server-${process.pid}`;
let modelUrl: string;

beforeAll(async () => {
  await Promise.all([registry.start(), index.start('2.2.2')]);
  context = faultyWorkerContext();
  execFileSync(DOCKER, ['run', '-d', '--name', MODEL_SERVER, '--workdir', '/etc', 'mlib-base/bookworm-python3:amd64', 'python3', '-m', 'http.server', '8000']);
  const ip = execFileSync(DOCKER, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', MODEL_SERVER]).toString().trim();
  modelUrl = `http://${ip}:8000/os-release`;
});

afterAll(() => {
  registry.stop();
  index.stop();
  fs.rmSync(context, { recursive: true, force: true });
  execFileSync(DOCKER, ['rm', '-f', MODEL_SERVER]);
});

afterEach(() => {
  expect(leftoverContainers()).toEqual([]);
});

const inputs = (repository: string, extra: Record<string, string>, token: string) => faultyInputs(registry, index, context, repository, extra, token);

async function expectRefused(run: ActionRun, repository: string, token: string, finding: RegExp): Promise<void> {
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(finding);
  expect(run.output).toContain('verification failed, nothing was pushed');
  expect(run.output).not.toContain('::group::Publish');
  expect(await registry.tags(repository)).toEqual([]);
  expect(leaks(run.output + run.summary + JSON.stringify(run.outputs), token)).toEqual([]);
}

const report = (run: ActionRun) => JSON.parse(run.outputs.report) as { platform: string; passed: boolean; hygiene: Record<string, unknown> | null }[];

test.each([{ platform: 'linux/amd64' }, { platform: 'linux/arm64' }])('image running as root on $platform: refused', async ({ platform }) => {
  const token = `tok-root-${platform.slice(6)}-0101`;
  const run = await runDist(inputs('hygiene/root', { platforms: platform, target: 'as-root' }, token));
  console.log(`root user (${platform}): ${run.seconds.toFixed(1)}s`);
  await expectRefused(
    run,
    'hygiene/root',
    token,
    new RegExp(`::error::${platform}: non-root user: expected a USER other than root in the image, got USER root`),
  );
});

test.each([{ platform: 'linux/amd64' }, { platform: 'linux/arm64' }])(
  'model cache owned by root, worker runs as uid 10001 on $platform: refused with the write error',
  async ({ platform }) => {
    const token = `tok-cache-${platform.slice(6)}-0102`;
    const run = await runDist(inputs('hygiene/root-cache', { platforms: platform, target: 'root-owned-cache' }, token));
    console.log(`root-owned model cache (${platform}): ${run.seconds.toFixed(1)}s`);
    await expectRefused(
      run,
      'hygiene/root-cache',
      token,
      new RegExp(
        `${platform}: model cache writable: expected uid 10001 can create a file in an empty volume mounted at /models, got PermissionError\\(13, 'Permission denied'\\)`,
      ),
    );
    expect(report(run)[0].hygiene).toMatchObject({ user: 'worker', uid: 10001, modelCache: '/models', cacheWritable: false });
  },
);

test('no HEALTHCHECK: refused by default, passes with healthcheck: optional', async () => {
  const token = 'tok-no-healthcheck-0103';
  const run = await runDist(inputs('hygiene/no-healthcheck', { platforms: 'linux/amd64', target: 'no-healthcheck' }, token));
  console.log(`no HEALTHCHECK: ${run.seconds.toFixed(1)}s`);
  await expectRefused(run, 'hygiene/no-healthcheck', token, /linux\/amd64: healthcheck: expected a HEALTHCHECK in the image, got none/);

  const optional = await runDist(
    inputs('hygiene/no-healthcheck', { platforms: 'linux/amd64', target: 'no-healthcheck', healthcheck: 'optional', push: 'false' }, token),
  );
  expect(optional.code).toBe(0);
  expect(report(optional)[0].hygiene?.healthySeconds).toBeUndefined();
});

test("HEALTHCHECK that never turns healthy: refused with docker's verdict and the check's last output", async () => {
  const token = 'tok-never-healthy-0104';
  const run = await runDist(
    inputs('hygiene/never-healthy', { platforms: 'linux/amd64', 'build-args': 'WORKER_FAULT=never-healthy', 'startup-timeout': '10' }, token),
  );
  console.log(`never healthy: ${run.seconds.toFixed(1)}s`);
  await expectRefused(
    run,
    'hygiene/never-healthy',
    token,
    /linux\/amd64: healthcheck: expected docker reports healthy within \d+s \(HEALTHCHECK python3 \/app\/fault.py --health\), got unhealthy after [\d.]+s; last check exit 1: fixture: health check always fails/,
  );
});

test('worker that downloads its model at start: answers with the network, refused offline; passes with offline: false', async () => {
  const token = 'tok-download-0105';
  const args = `WORKER_FAULT=download-at-start\nFIXTURE_MODEL_URL=${modelUrl}`;
  const run = await runDist(inputs('hygiene/download', { platforms: 'linux/amd64', 'build-args': args, 'startup-timeout': '8' }, token));
  console.log(`downloads at start: ${run.seconds.toFixed(1)}s`);
  await expectRefused(
    run,
    'hygiene/download',
    token,
    /linux\/amd64: offline start: expected answer from GET \/v1\/ping with no network and HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1, got no answer offline, but it answers with the network on/,
  );
  expect(run.output).toContain(`downloading model from ${modelUrl}`);

  const online = await runDist(inputs('hygiene/download', { platforms: 'linux/amd64', 'build-args': args, offline: 'false', push: 'false' }, token));
  expect(online.code).toBe(0);
  expect(report(online)[0].hygiene).toMatchObject({ offline: false });
});

test('worker needing 400 MB under a 200m limit: refused as killed by the OOM killer; the example passes under 256m and reports its peak', async () => {
  const token = 'tok-memory-0106';
  const run = await runDist(inputs('hygiene/memory', { platforms: 'linux/amd64', 'build-args': 'WORKER_FAULT=memory-hog', memory: '200m' }, token));
  console.log(`over the memory limit: ${run.seconds.toFixed(1)}s`);
  await expectRefused(
    run,
    'hygiene/memory',
    token,
    /linux\/amd64: memory: expected the worker starts and answers under a 200m limit, got killed by the kernel's out-of-memory killer after [\d.]+s/,
  );

  const fits = await runDist(inputs('hygiene/memory', { platforms: 'linux/amd64', memory: '256m', push: 'false' }, token));
  expect(fits.code).toBe(0);
  const h = report(fits)[0].hygiene as { memoryLimit: number; peakMemory: number };
  expect(h.memoryLimit).toBe(256 * 1024 * 1024);
  expect(h.peakMemory).toBeGreaterThan(5 * 1024 * 1024);
  expect(h.peakMemory).toBeLessThan(h.memoryLimit);
  expect(fits.summary).toMatch(/\| linux\/amd64 \| worker \(uid 10001\) \| \/models: writable \| [\d.]+s \| yes \| [\d.]+ MiB \/ 256 MiB \|/);
});

test('gpu: true on a runner without a GPU or the NVIDIA runtime: refused with what is missing, before any probe', async () => {
  const token = 'tok-gpu-0107';
  const run = await runDist(inputs('hygiene/gpu', { platforms: 'linux/amd64', gpu: 'true' }, token));
  console.log(`gpu lane without a GPU: ${run.seconds.toFixed(1)}s`);
  await expectRefused(run, 'hygiene/gpu', token, /::error::linux\/amd64: gpu runtime: expected docker run --gpus all succeeds, got .*NVIDIA Container Toolkit/);
});

// Declared checks, from the field notes' examples in __tests__/fixtures/checks (the README shows the same).
const checksFile = (name: string) => fs.readFileSync(path.join(ROOT, '__tests__/fixtures/checks', `${name}.yml`), 'utf8');

test('declared checks: a missing whisper model (exec) and diarization off (HTTP) are refused, each named with expected and actual', async () => {
  const token = 'tok-checks-fail-0108';
  const checks = [
    checksFile('whisper-model-cached'),
    // diarization-required.yml with a short retry, so the case takes seconds, not 30 s.
    '- name: diarization available',
    '  http: {path: /v1/ping, headers: {Authorization: "Bearer ${WORKER_TOKEN}"}}',
    '  expect: {status: 200, json: {diarization: true}}',
    '  periodSeconds: 1',
    '  failureThreshold: 2',
  ].join('\n');
  const run = await runDist(inputs('checks/fail', { platforms: 'linux/amd64', checks }, token));
  console.log(`declared checks failing: ${run.seconds.toFixed(1)}s`);
  await expectRefused(
    run,
    'checks/fail',
    token,
    /linux\/amd64: check 'whisper model cached': expected exit code 0 and stdout matching .*, got exit code 1 after 1 attempt; stdout: whisper model: missing/,
  );
  expect(run.output).toMatch(
    /linux\/amd64: check 'diarization available': expected GET \/v1\/ping: HTTP 200 and json diarization = true, got HTTP 200, json diarization = false after 2 attempts; body: .*"diarizationError"/,
  );
  expect(run.output).not.toMatch(/check 'hugging face offline'.*expected/);
  const [entry] = JSON.parse(run.outputs.report);
  expect(entry.checks).toEqual([
    { name: 'whisper model cached', passed: false, attempts: 1 },
    { name: 'hugging face offline', passed: true, attempts: 1 },
    { name: 'diarization available', passed: false, attempts: 2 },
  ]);
});

test('declared checks from ml-image.yml pass on both platforms (diarization off but its error reported; offline variables set)', async () => {
  const token = 'tok-checks-pass-0109';
  const dir = workspaceTempDir('mlib-checks-');
  try {
    const config = path.join(dir, 'ml-image.yml');
    const indent = (text: string) =>
      text
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n');
    const offline = [
      '- name: hugging face offline',
      '  exec: \'test "$HF_HUB_OFFLINE" = 1 && test "$TRANSFORMERS_OFFLINE" = 1 && echo offline\'',
      "  expect: {stdout: '^offline$'}",
    ].join('\n');
    fs.writeFileSync(
      config,
      [
        'images:',
        '  - name: worker',
        `    image: ${registry.host}/checks/pass`,
        '    checks:',
        indent(checksFile('diarization-or-reported-error')),
        indent(offline),
      ].join('\n'),
    );
    const { image: _image, ...rest } = inputs('checks/pass', { push: 'false' }, token);
    const run = await runDist({ ...rest, config });
    console.log(`declared checks passing on both platforms: ${run.seconds.toFixed(1)}s`);
    if (run.code !== 0) console.log(run.output.slice(-3000));
    expect(run.code).toBe(0);
    const entries = JSON.parse(run.outputs.report);
    expect(entries.map((e: { platform: string }) => e.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const e of entries) {
      expect(e.checks).toEqual([
        { name: 'diarization available or its error reported', passed: true, attempts: 1 },
        { name: 'hugging face offline', passed: true, attempts: 1 },
      ]);
    }
    expect(run.summary).toContain(
      'Checks, linux/arm64: diarization available or its error reported passed (1 attempt), hugging face offline passed (1 attempt)',
    );
    expect(leaks(run.output + run.summary + JSON.stringify(run.outputs), token)).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('size budget: over the uncompressed limit on amd64 and the compressed one on arm64 (measured before any push): refused', async () => {
  const token = 'tok-size-0110';
  const run = await runDist(inputs('size/over', { 'size-budget': 'uncompressed=50MB; linux/arm64: compressed=20MB' }, token));
  console.log(`over the size budget: ${run.seconds.toFixed(1)}s`);
  await expectRefused(run, 'size/over', token, /::error::linux\/amd64: uncompressed size: expected at most 50MB, got [\d.]+ MB \(\d+ bytes\)/);
  expect(run.output).toMatch(/::error::linux\/arm64: compressed size: expected at most 20MB, got [\d.]+ MB \(\d+ bytes\)/);
  const entries = JSON.parse(run.outputs.report);
  expect(entries[0].size).toMatchObject({ platform: 'linux/amd64', passed: false });
  expect(entries[0].size.compressed).toBeUndefined(); // not measured: no compressed limit on amd64
  expect(entries[1].size).toMatchObject({ platform: 'linux/arm64', passed: false, compressedBy: 'gzip' });
  expect(entries[1].size.largestLayers[0].instruction).toBeDefined();
  expect(run.summary).toContain('#### image size');
});

test('size growth: a release 20 MB larger than what latest names is refused under growth=5%, with the growth shown; sizes read from the registry, nothing pulled', async () => {
  const token = 'tok-growth-0111';
  const first = await runDist(inputs('size/growth', { platforms: 'linux/amd64' }, token));
  expect(first.code).toBe(0);
  const [published] = JSON.parse(first.outputs.report);
  expect(published.size).toMatchObject({ compressedBy: 'pushed' });
  expect(published.size.compressed).toBeGreaterThan(1e6);

  const run = await runDist(inputs('size/growth', { platforms: 'linux/amd64', 'build-args': 'FIXTURE_PAD_MB=20', 'size-budget': 'growth=5%' }, token));
  console.log(`size growth over budget: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  // `%` reaches the raw log as %25: workflow commands escape it, and the runner shows `%`.
  expect(run.output).toMatch(
    new RegExp(
      `::error::linux/amd64: size growth: expected at most \\+5%25 over ${registry.host.replace(/\./g, '\\.')}/size/growth:latest \\([\\d.]+ MB\\), got \\+[\\d.]+%25 \\([\\d.]+ MB\\)`,
    ),
  );
  const [entry] = JSON.parse(run.outputs.report);
  expect(entry.size.published.digest).toBe(published.digest);
  expect(entry.size.growthPercent).toBeGreaterThan(15);
  expect(run.summary).toMatch(/\| linux\/amd64 \| [\d.]+ MB \| [\d.]+ MB \| [\d.]+ MB \| \+[\d.]+% \| growth ≤ \+5% \| over budget \|/);
  // The tag still names the first release.
  expect((await registry.manifest('size/growth', 'latest')).digest).toBe(first.outputs.digest);
});
