import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { leftoverContainers, runDist, runLocalTags, type ActionRun } from './support/action';
import { FaultProxy } from './support/fault-proxy';
import { faultyWorkerContext } from './support/faulty-worker';
import { LOCAL_BASE_ARGS, Registry, WheelIndex } from './support/services';
import { workspaceTempDir } from './support/env';

/*
 * A run cancelled as a runner cancels it (SIGINT, SIGTERM 7.5 s later) during the build, the
 * verification and the upload, then the post step: nothing of the run may be left: no container,
 * no temp file, no local image tag, no docker child, and no tag in the registry.
 */
jest.setTimeout(10 * 60 * 1000);

const registry = new Registry();
const index = new WheelIndex();
let proxy: FaultProxy;

beforeAll(async () => {
  await Promise.all([registry.start(), index.start()]);
  proxy = await new FaultProxy({ upstream: registry.host }).start();
});

afterAll(async () => {
  await proxy.stop();
  registry.stop();
  index.stop();
});

function inputs(repository: string, extra: Record<string, string> = {}, context = 'examples/worker'): Record<string, string> {
  return {
    image: `${proxy.host}/${repository}`,
    platforms: 'linux/amd64',
    context,
    'torch-index-url': index.url,
    network: 'host',
    'registry-username': registry.user,
    'registry-password': registry.password,
    ...extra,
    'build-args': [LOCAL_BASE_ARGS, extra['build-args'] ?? ''].join('\n').trim(),
  };
}

/** docker processes (CLI children of the action) still running for this image. */
function dockerChildren(image: string): string[] {
  return execFileSync('ps', ['-eo', 'args'])
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('docker ') && l.includes(image));
}

async function expectNothingLeft(run: ActionRun, repository: string) {
  expect(run.cancelled).toBe(true);
  expect(run.code).not.toBe(0);
  expect(run.postCode).toBe(0);
  expect(leftoverContainers()).toEqual([]);
  expect(runLocalTags(`${proxy.host}/${repository}`)).toEqual([]);
  // The main step removed its own temp files; nothing was left for the post step either.
  expect(run.runnerTempAfterMain).toEqual([]);
  expect(run.runnerTempAfterPost).toEqual([]);
  expect(dockerChildren(`${proxy.host}/${repository}`)).toEqual([]);
  expect(await registry.tags(repository)).toEqual([]);
}

test('cancelled during the build: the build stops, nothing is left', async () => {
  const ctx = workspaceTempDir('mlib-slow-build-');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG NONCE\nRUN echo "slow step ${NONCE}" && sleep 120\n');
  try {
    const run = await runDist(inputs('cancel/build', { 'build-args': `NONCE=${Date.now()}`, 'pin-lint': 'off' }, ctx), { cancelWhen: 'slow step' });
    console.log(`cancelled during build: ${run.seconds.toFixed(1)}s`);
    expect(run.output).toContain('::error::the run was cancelled during build');
    expect(run.seconds).toBeLessThan(60); // not the 120 s of the step
    await expectNothingLeft(run, 'cancel/build');
    // The engine stops the build's RUN step once the CLI has cancelled the build: within seconds,
    // not the 120 s of the step.
    const deadline = Date.now() + 15_000;
    while (/sleep 120/.test(execFileSync('ps', ['-eo', 'args']).toString()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toMatch(/sleep 120/);
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
});

test('cancelled during verification: the container is removed, nothing is left', async () => {
  const run = await runDist(inputs('cancel/verify', { 'startup-timeout': '300', 'build-args': 'WORKER_FAULT=never-ready' }, faultyWorkerContext()), {
    cancelWhen: 'polling GET /v1/ping',
  });
  console.log(`cancelled during verification: ${run.seconds.toFixed(1)}s`);
  expect(run.output).toContain('::error::the run was cancelled during verify');
  expect(run.seconds).toBeLessThan(60);
  await expectNothingLeft(run, 'cancel/verify');
});

test('cancelled during the upload: the upload stops, no tag moves, the report says what was reached', async () => {
  // A slow registry: every layer upload is paced to 1 MB/s, so the cancel lands mid-layer.
  proxy.setRules([{ kind: 'blob-patch', times: 'always', fault: { type: 'throttle', bytesPerSecond: 1_000_000 } }]);
  try {
    const run = await runDist(inputs('cancel/upload'), { cancelWhen: 'pushing by streaming docker save', cancelDelayMs: 3000 });
    console.log(`cancelled during upload: ${run.seconds.toFixed(1)}s`);
    expect(run.output).toContain('::error::the run was cancelled during publish');
    expect(proxy.count('blob-patch')).toBeGreaterThan(0);
    expect(proxy.count('tag-put')).toBe(0);
    expect(run.seconds).toBeLessThan(60);
    // The report of what was reached: verified, not published.
    const [entry] = JSON.parse(run.outputs.report);
    expect(entry.passed).toBe(true);
    expect(entry.digest).toBeNull();
    expect(run.summary).toContain('| linux/amd64 | cu121 | 2.2.2+cu121 |');
    expect(run.summary).toContain('Nothing was published: the run was cancelled during publish; no tag was moved.');
    await expectNothingLeft(run, 'cancel/upload');
  } finally {
    proxy.setRules([]);
  }
});
