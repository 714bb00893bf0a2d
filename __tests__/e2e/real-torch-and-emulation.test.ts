import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, workspaceTempDir } from './support/env';
import { leftoverContainers, runDist } from './support/action';
import { LOCAL_BASE_ARGS } from './support/services';

// The probe against a real torch (Debian's python3-torch), the `expect` override, and the QEMU
// preflight with emulation really switched off.
jest.setTimeout(20 * 60 * 1000);

let context: string;

beforeAll(() => {
  context = workspaceTempDir('mlib-debian-torch-');
  fs.copyFileSync(path.join(ROOT, 'examples/worker/server.py'), path.join(context, 'server.py'));
  fs.copyFileSync(path.join(ROOT, '__tests__/fixtures/debian-torch-worker/Dockerfile'), path.join(context, 'Dockerfile'));
});

afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

afterEach(() => expect(leftoverContainers()).toEqual([]));

const debianTorch = { image: '127.0.0.1:5999/example/debian-torch', platforms: 'linux/amd64', 'torch-variants': 'linux/amd64=cpu', push: 'false' };

test("Debian's real torch without `expect`: the exact-string check refuses 1.13.0a0 for 2.2.2+cpu", async () => {
  const run = await runDist({ ...debianTorch, context });
  console.log(`real torch, no expect: ${run.seconds.toFixed(1)}s`);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/linux\/amd64: torch version: expected 2\.2\.2\+cpu, got 1\.13\.0a0/);
  expect(run.output).toMatch(/linux\/amd64: torchaudio version: expected 2\.2\.2\+cpu, got 0\.13\.1/);
  expect(run.output).not.toMatch(/CUDA build/); // a CPU build was expected and found
});

test("Debian's real torch with `expect`: verified, versions read from the real modules", async () => {
  const run = await runDist({ ...debianTorch, context, expect: 'linux/amd64: torch=1.13.0a0 torchaudio=0.13.1 cuda=none' });
  console.log(`real torch, expect: ${run.seconds.toFixed(1)}s`);
  expect(run.code).toBe(0);
  const [report] = JSON.parse(run.outputs.report);
  expect(report.seen).toEqual({ torch: '1.13.0a0', torchaudio: '0.13.1', cuda: null, machine: 'x86_64' });
  expect(report.passed).toBe(true);
});

test('no QEMU registered for arm64: refused before any build, saying how to enable it', async () => {
  execFileSync('update-binfmts', ['--disable', 'qemu-aarch64']);
  let run;
  try {
    run = await runDist({ image: '127.0.0.1:5999/example/worker', context: 'examples/worker', push: 'false', 'build-args': LOCAL_BASE_ARGS });
  } finally {
    execFileSync('update-binfmts', ['--enable', 'qemu-aarch64']);
  }
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(
    /::error::linux\/arm64 cannot run on this linux\/amd64 runner: no QEMU emulation is registered \(\/proc\/sys\/fs\/binfmt_misc\/qemu-aarch64 is (missing|disabled)\)/,
  );
  expect(run.output).toContain('update-binfmts --enable qemu-aarch64');
  expect(run.output).not.toContain('::group::Build');
});
