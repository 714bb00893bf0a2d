import * as fs from 'fs';

import { leaks, leftoverContainers, runDist } from './support/action';
import { faultyInputs, faultyWorkerContext } from './support/faulty-worker';
import { Registry, WheelIndex } from './support/services';

// Images that build but must not be published: each fault is caught by verification, the action
// fails naming platform and check, the registry gets no tag, and no container is left behind.
jest.setTimeout(30 * 60 * 1000);

const registry = new Registry();
const index = new WheelIndex();
let context: string;

beforeAll(async () => {
  await Promise.all([registry.start(), index.start('2.2.2,2.2.1')]);
  context = faultyWorkerContext();
});

afterAll(() => {
  registry.stop();
  index.stop();
  fs.rmSync(context, { recursive: true, force: true });
});

afterEach(() => {
  expect(leftoverContainers()).toEqual([]);
});

const inputs = (repository: string, extra: Record<string, string>, token: string) => faultyInputs(registry, index, context, repository, extra, token);

async function expectNothingPublished(repository: string) {
  expect(await registry.tags(repository)).toEqual([]);
}

test('arm64 image with the wrong torch: fails naming platform, expected and actual; no tag', async () => {
  const token = 'tok-wrong-torch-0001';
  // pin-lint off: lint would refuse the fixture's hard-coded pin before the build; here the
  // verification itself must catch it (a version can come from where lint cannot see).
  const run = await runDist(inputs('faults/wrong-torch', { 'build-args': 'linux/arm64:FIXTURE_TORCH_PIN=2.2.1', 'pin-lint': 'off' }, token));
  console.log(`wrong torch on arm64: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/::error::.*linux\/arm64: torch version: expected 2\.2\.2, got 2\.2\.1/);
  expect(run.output).toMatch(/linux\/arm64: torchaudio version: expected 2\.2\.2, got 2\.2\.1/);
  expect(run.output).not.toMatch(/linux\/amd64: torch version/); // amd64 was right and passed
  expect(run.output).toContain('verification failed, nothing was pushed');
  expect(run.output).not.toContain('::group::Publish');
  expect(run.summary).toMatch(/\| linux\/arm64 \| cpu \| 2\.2\.1 \|.*failed: torch version \(expected 2\.2\.2, got 2\.2\.1\)/);
  await expectNothingPublished('faults/wrong-torch');
  expect(leaks(run.output, token)).toEqual([]);
});

test('server never becomes ready: fails within the start period and shows the container log', async () => {
  const token = 'tok-never-ready-0002';
  const run = await runDist(
    inputs('faults/never-ready', { platforms: 'linux/amd64', 'startup-timeout': '6', 'build-args': 'WORKER_FAULT=never-ready' }, token),
  );
  console.log(`never ready: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(
    /linux\/amd64: startup: expected answer from GET \/v1\/ping within 6s offline \(no network, HF_HUB_OFFLINE=1 [^)]*\), got no answer/,
  );
  expect(run.output).toContain('loading models (fixture: this never finishes)');
  const report = JSON.parse(run.outputs.report);
  // the start period offline, once more online to tell why, plus the probe
  expect(report[0].timings.verifySeconds).toBeLessThan(2 * 6 + 15);
  await expectNothingPublished('faults/never-ready');
  expect(leaks(run.output, token)).toEqual([]);
});

test('container exits at start: fails at once (not after the start period) with its log', async () => {
  const token = 'tok-crash-0007';
  const run = await runDist(inputs('faults/crash', { platforms: 'linux/amd64', 'startup-timeout': '300', 'build-args': 'WORKER_FAULT=crash' }, token));
  console.log(`container exits at start: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/linux\/amd64: startup: expected server answering GET \/v1\/ping offline \([^)]*\), got container exited with exit code 1 after/);
  expect(run.output).toContain('fixture: model file /models/large-v3.pt not found');
  expect(run.seconds).toBeLessThan(120); // far less than the 300 s start period
  await expectNothingPublished('faults/crash');
});

test('/v1/ping answers 500: fails with the response body and the log shown', async () => {
  const token = 'tok-ping-500-0003';
  const run = await runDist(inputs('faults/ping-500', { platforms: 'linux/amd64', 'build-args': 'WORKER_FAULT=ping-500' }, token));
  console.log(`ping 500: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/linux\/amd64: ping HTTP status: expected 200, got 500 with body \{"status": "error", "error": "ImportError: pyannote.audio"\}/);
  expect(run.output).toContain("fixture: ping handler raising ImportError('pyannote.audio')");
  await expectNothingPublished('faults/ping-500');
  expect(leaks(run.output, token)).toEqual([]);
});

test('/v1/ping does not enforce the token: fails', async () => {
  const token = 'tok-no-auth-0004';
  const run = await runDist(inputs('faults/no-auth', { platforms: 'linux/amd64', 'build-args': 'WORKER_FAULT=no-auth' }, token));
  console.log(`no auth: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/linux\/amd64: auth: expected 401 or 403 without a token, got 200/);
  expect(run.output).toMatch(/linux\/amd64: auth: expected 401 or 403 with a wrong token, got 200/);
  await expectNothingPublished('faults/no-auth');
  expect(leaks(run.output, token)).toEqual([]);
});

test('wrong registry password: a clear error before any build, nothing pushed', async () => {
  const token = 'tok-bad-password-0005';
  const wrong = `${registry.password}-but-wrong`;
  const run = await runDist({ ...inputs('faults/bad-password', { platforms: 'linux/amd64' }, token), 'registry-password': wrong });
  console.log(`wrong registry password: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).not.toContain('::group::Build ');
  expect(run.output).toMatch(
    new RegExp(
      `::error::registry login to ${registry.host.replace(/\./g, '\\.')} as 'ci-pusher' for .* failed: .*was refused: HTTP 401.*Check 'registry-username' and 'registry-password'.*Nothing was built or pushed`,
    ),
  );
  await expectNothingPublished('faults/bad-password');
  expect(leaks(run.output + run.postOutput, wrong)).toEqual([]);
  expect(leaks(run.output, token)).toEqual([]);
});
