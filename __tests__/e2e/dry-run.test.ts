import * as fs from 'fs';
import * as path from 'path';
import { ROOT, workspaceTempDir } from './support/env';
import { runDist } from './support/action';

// dry-run: the whole plan (tags, build args, expectations) from dist/, with no build and no push.
jest.setTimeout(5 * 60 * 1000);

const tagPush = {
  GITHUB_REF: 'refs/tags/v1.2.3',
  GITHUB_REF_NAME: 'v1.2.3',
  GITHUB_EVENT_NAME: 'push',
};

test('a tag push: semver tags and latest, per-platform build args and expectations', async () => {
  const run = await runDist({ image: 'ghcr.io/Acme/Worker', context: 'examples/worker', 'dry-run': 'true' }, { github: tagPush });
  console.log(`dry run, tag v1.2.3:\n${run.summary}`);
  expect(run.code).toBe(0);
  expect(run.output).not.toContain('::group::Build');
  expect(run.outputs.tags.split('\n')).toEqual(['1.2.3', '1.2', '1', 'latest'].map((t) => `ghcr.io/acme/worker:${t}`));
  const [plan] = JSON.parse(run.outputs.plan);
  expect(plan.push).toBe(true);
  expect(run.outputs.push).toBe('true');
  expect(
    plan.platforms.map((p: { platform: string; buildArgs: Record<string, string>; expect: object }) => [p.platform, p.buildArgs.TORCH_INDEX_URL, p.expect]),
  ).toEqual([
    ['linux/amd64', 'https://download.pytorch.org/whl/cu121', { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' }],
    ['linux/arm64', 'https://download.pytorch.org/whl/cpu', { torch: '2.2.2', torchaudio: '2.2.2', cuda: null }],
  ]);
  expect(JSON.parse(run.outputs.matrix)).toEqual({
    include: [
      { image: 'default', platform: 'linux/amd64', arch: 'amd64' },
      { image: 'default', platform: 'linux/arm64', arch: 'arm64' },
    ],
  });
  expect(run.summary).toContain('| TORCH_INDEX_URL | `https://download.pytorch.org/whl/cu121` | `https://download.pytorch.org/whl/cpu` |');
});

test('a two-variant ml-image.yml: each variant its own tags, args and expectations', async () => {
  const dir = workspaceTempDir('mlib-config-');
  const config = path.join(dir, 'ml-image.yml');
  fs.copyFileSync(path.join(ROOT, '__tests__/fixtures/config/two-variants.yml'), config);
  fs.mkdirSync(path.join(dir, 'worker'));
  fs.copyFileSync(path.join(ROOT, 'examples/worker/Dockerfile'), path.join(dir, 'worker/Dockerfile'));
  try {
    const run = await runDist({ config, context: path.join(dir, 'worker'), 'dry-run': 'true' }, { github: tagPush });
    console.log(`dry run, two variants:\n${run.summary}`);
    expect(run.code).toBe(0);
    const plans = JSON.parse(run.outputs.plan);
    expect(plans.map((p: { name: string; tags: string[] }) => [p.name, p.tags])).toEqual([
      ['full', ['1.2.3', '1.2', '1', 'latest']],
      ['slim', ['1.2.3-slim', '1.2-slim', '1-slim', 'latest-slim']],
    ]);
    expect(plans[0].platforms[0].buildArgs.BASE_IMAGE).toBe('nvidia/cuda:12.1.1-runtime-ubuntu22.04');
    expect(plans[1].platforms[0].expect).toEqual({ torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const refusals: Array<{ name: string; inputs: Record<string, string>; error: RegExp }> = [
  {
    name: 'a CUDA variant torch 2.2.2 never had',
    inputs: { 'torch-variants': 'linux/amd64=cu124,linux/arm64=cpu' },
    error: /Input 'torch-variants': .*cu124.*2\.2\.2/,
  },
  { name: 'torchaudio from another release', inputs: { 'torchaudio-version': '2.1.0' }, error: /Input 'torchaudio-version': .*2\.1\.0/ },
  {
    name: 'a torch newer than the table',
    inputs: { 'torch-version': '2.99.0', 'torch-variants': 'linux/amd64=cpu,linux/arm64=cpu' },
    error: /Input 'torch-version': .*2\.99\.0.*allow-unknown-torch/,
  },
];

test.each(refusals)('preflight refuses $name before any build', async ({ inputs, error }) => {
  const run = await runDist({ image: 'ghcr.io/acme/worker', context: 'examples/worker', 'dry-run': 'true', ...inputs });
  const line = run.output.split('\n').find((l) => l.startsWith('::error::')) ?? '';
  console.log(
    `refused plan (${Object.entries(inputs)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}):\n${line}`,
  );
  expect(run.code).not.toBe(0);
  expect(line).toMatch(error);
});

test('a Dockerfile declaring BUILD_TIME before its torch install: a warning annotation at the ARG, and the plan goes on', async () => {
  const dir = workspaceTempDir('mlib-cache-order-');
  try {
    const text = fs
      .readFileSync(path.join(ROOT, 'examples/worker/Dockerfile'), 'utf8')
      .replace('ARG TORCH_INDEX_URL\n', 'ARG TORCH_INDEX_URL\nARG BUILD_TIME=unknown\n');
    fs.writeFileSync(path.join(dir, 'Dockerfile'), text);
    const line = text.split('\n').indexOf('ARG BUILD_TIME=unknown') + 1;
    const run = await runDist({ image: 'ghcr.io/acme/worker', context: dir, 'dry-run': 'true' });
    expect(run.code).toBe(0);
    // Placed by the path from the repository root (GitHub ignores absolute paths).
    const rel = path.relative(ROOT, dir).replace(/[.]/g, '\\.');
    expect(run.output).toMatch(
      new RegExp(
        `::warning title=cache order,file=${rel}/Dockerfile,line=${line}::.*ARG BUILD_TIME is declared before the RUN at line \\d+; ml-image-build sets BUILD_TIME anew every run`,
      ),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pin lint: one error annotation per finding at its file and line (repository-relative), and the plan fails before any build', async () => {
  const dir = workspaceTempDir('mlib-pinlint-');
  try {
    fs.copyFileSync(path.join(ROOT, 'examples/worker/Dockerfile'), path.join(dir, 'Dockerfile'));
    fs.writeFileSync(path.join(dir, 'requirements.txt'), '# worker deps\nnumpy==1.26.4\ntorch>=2.0\ntorchaudio==2.1.0\n');
    // A file the build never sees: .dockerignore keeps it out, so pin lint does not read it.
    fs.writeFileSync(path.join(dir, 'requirements-dev.txt'), 'torch\n');
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'requirements-dev.txt\n');
    const run = await runDist({ image: 'ghcr.io/acme/worker', context: dir, 'dry-run': 'true' });
    const rel = path.relative(ROOT, dir);
    const annotations = run.output.split('\n').filter((l) => l.startsWith('::error title=pin lint'));
    console.log(`pin lint annotations:\n${annotations.join('\n')}`);
    expect(run.code).not.toBe(0);
    expect(annotations.map((l) => /file=([^,]+),line=(\d+)::/.exec(l)?.slice(1))).toEqual([
      [`${rel}/requirements.txt`, '3'],
      [`${rel}/requirements.txt`, '4'],
    ]);
    expect(annotations[0]).toMatch(/torch>=2\.0/);
    expect(annotations[1]).toMatch(/torchaudio.*2\.1\.0.*2\.2\.2/);
    expect(run.output).not.toContain('requirements-dev.txt');
    expect(run.output).not.toContain('::group::Build');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("build-time: a scheduled run's nightly tag, created label and BUILD_TIME come from the given time, not the clock", async () => {
  const schedule = { GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' };
  const run = await runDist(
    { image: 'ghcr.io/acme/worker', context: 'examples/worker', 'dry-run': 'true', 'build-time': '2026-01-01T23:59:58Z' },
    { github: schedule },
  );
  expect(run.code).toBe(0);
  const [plan] = JSON.parse(run.outputs.plan);
  expect(plan.tags).toEqual(['nightly-20260101', 'nightly']);
  expect(plan.created).toBe('2026-01-01T23:59:58Z');
  expect(plan.labels['org.opencontainers.image.created']).toBe('2026-01-01T23:59:58Z');
  expect(plan.platforms.map((p: { buildArgs: Record<string, string> }) => p.buildArgs.BUILD_TIME)).toEqual(['2026-01-01T23:59:58Z', '2026-01-01T23:59:58Z']);

  const refused = await runDist(
    { image: 'ghcr.io/acme/worker', context: 'examples/worker', 'dry-run': 'true', 'build-time': '2026-01-01 23:59' },
    { github: schedule },
  );
  expect(refused.code).not.toBe(0);
  expect(refused.output).toMatch(/::error::Input 'build-time': '2026-01-01 23:59' is not a UTC time; accepted: YYYY-MM-DDTHH:MM:SSZ/);
});
