/**
 * The GitHub workflows: the reusable build workflow and the project's CI (.github/workflows/), and
 * the caller templates users copy (workflows/). Each file is validated by GitHub's own parser
 * (@actions/workflow-parser, with calls of build.yml resolved to the local file), then linted for
 * what the parser does not know: this action's inputs and outputs (action.yml), the build
 * workflow's inputs, secrets and outputs, references between jobs and steps, SHA pins,
 * permissions and timeouts. Every lint also gets a broken workflow, to show it can fail.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import { minimatch } from 'minimatch';
import * as os from 'os';
import * as path from 'path';
import { parseBuildTime } from '../../src/inputs';
import { createPlan, planOutputs } from '../../src/plan/plan';
import { inputs, runContext } from './fixtures';
import {
  actionSteps,
  evaluateIf,
  evaluateValue,
  lintActionSteps,
  lintHygiene,
  lintPins,
  lintReferences,
  lintReusableCalls,
  loadAction,
  loadYaml,
  readCommandFile,
  refsIn,
  reusableCalls,
  reusableMeta,
  ROOT,
  usesOf,
  validateWorkflow,
  type Step,
  type Workflow,
} from './workflow-lint';

const BUILD = '.github/workflows/build.yml';
/** A row of the plan's matrix. */
type Row = { image: string; platform: string; arch: string };

function listWorkflows(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}

const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** One row per workflow file, found on disk so a new file is covered without editing this test. */
const FILES = [...listWorkflows('.github/workflows'), ...listWorkflows('workflows')].map((rel) => ({
  name: rel,
  rel,
  raw: read(rel),
  wf: loadYaml<Workflow>(read(rel)),
}));

const action = loadAction();
const buildText = read(BUILD);
const build = reusableMeta(loadYaml<Workflow>(buildText));
const REUSABLE = { [BUILD]: buildText };

/** A minimal valid workflow around the given jobs (YAML, indented under `jobs:`). */
const wrap = (jobs: string, head = 'on: push\npermissions: {}\n') => `${head}jobs:\n${jobs}`;
const doc = (text: string) => loadYaml<Workflow>(text);

describe('the workflow files', () => {
  test('are all there', () => {
    expect(FILES.map((f) => f.rel)).toEqual(
      expect.arrayContaining([
        '.github/workflows/build.yml',
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml',
        '.github/workflows/release.yml',
        'workflows/release.yml',
        'workflows/nightly.yml',
        'workflows/pull-request.yml',
      ]),
    );
  });
});

describe('@actions/workflow-parser', () => {
  test.each(FILES)('$name: valid, zero errors', async ({ rel, raw }) => {
    expect(await validateWorkflow(rel, raw, REUSABLE)).toEqual([]);
  });

  test.each([
    {
      name: 'a job without runs-on',
      text: wrap('  a:\n    steps:\n      - run: echo hi\n'),
      error: /Required property is missing: runs-on/,
    },
    {
      name: 'an unknown key in a job',
      text: wrap('  a:\n    runs-on: ubuntu-24.04\n    timeout: 5\n    steps:\n      - run: echo hi\n'),
      error: /Unexpected value 'timeout'/,
    },
    {
      name: 'a context that does not exist',
      text: wrap('  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ step.x.outputs.y }}\n'),
      error: /Unrecognized named-value: 'step'/,
    },
    {
      name: 'needs of an unknown job',
      text: wrap(
        '  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n  b:\n    needs: [a, c]\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n',
      ),
      error: /depends on unknown job 'c'/,
    },
    {
      name: 'an invalid cron schedule',
      text: wrap('  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n', "on:\n  schedule:\n    - cron: '61 * * * *'\n"),
      error: /Invalid cron expression/,
    },
    {
      name: 'a build.yml call with an undeclared input',
      text: wrap('  a:\n    uses: ./.github/workflows/build.yml\n    with:\n      image: x\n      imagee: y\n'),
      error: /Invalid input, imagee is not defined/,
    },
    {
      name: 'a reusable workflow that cannot be found',
      text: wrap('  a:\n    uses: someone/else/.github/workflows/x.yml@v1\n'),
      error: /Unable to find reusable workflow/,
    },
  ])('catches $name', async ({ text, error }) => {
    const errors = await validateWorkflow('broken.yml', text, REUSABLE);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(error);
  });
});

describe("steps using this action pass only action.yml's inputs", () => {
  test.each(FILES)('$name', ({ wf }) => {
    expect(lintActionSteps(wf, action)).toEqual([]);
  });

  test('the check is not vacuous: the action is used by build.yml and ci.yml', () => {
    const count = (rel: string) => actionSteps(FILES.find((f) => f.rel === rel)!.wf).length;
    expect(count(BUILD)).toBeGreaterThanOrEqual(5);
    expect(count('.github/workflows/ci.yml')).toBeGreaterThanOrEqual(1);
  });

  test.each([
    {
      name: 'an input action.yml does not declare',
      with: 'image: x\n          torch: 2.2.2',
      meta: action,
      problem: /input 'torch' is not declared in action.yml/,
    },
    {
      name: 'a missing required input',
      with: 'push: "false"',
      meta: { inputs: { image: { required: true } }, outputs: {} },
      problem: /required input 'image' is not given/,
    },
  ])('catches $name', ({ with: w, meta, problem }) => {
    const wf = doc(wrap(`  a:\n    runs-on: x\n    steps:\n      - uses: ml-image-build/ml-image-build@v1\n        with:\n          ${w}\n`));
    expect(lintActionSteps(wf, meta).join('\n')).toMatch(problem);
  });

  test('catches a merge key: GitHub has none, so `<<` would reach the action as an input of that name', () => {
    const text = wrap(
      `  a:\n    runs-on: x\n    steps:\n      - uses: ml-image-build/ml-image-build@v1\n        with: &w\n          image: x\n      - uses: ml-image-build/ml-image-build@v1\n        with:\n          <<: *w\n          push: 'false'\n`,
    );
    expect(lintActionSteps(doc(text), action).join('\n')).toMatch(/input '<<' is not declared in action.yml/);
  });
});

describe('calls of build.yml pass its declared inputs, types and secrets', () => {
  test.each(FILES)('$name', ({ wf }) => {
    expect(lintReusableCalls(wf, build)).toEqual([]);
  });

  test('the check is not vacuous: every template calls build.yml@v1', () => {
    for (const rel of ['workflows/release.yml', 'workflows/nightly.yml', 'workflows/pull-request.yml']) {
      const calls = reusableCalls(FILES.find((f) => f.rel === rel)!.wf);
      expect(calls.map((c) => c.call.uses)).toEqual(['ml-image-build/ml-image-build/.github/workflows/build.yml@v1']);
    }
  });

  const call = (body: string) => doc(wrap(`  a:\n    uses: ./.github/workflows/build.yml\n${body}`));
  test.each([
    { name: 'an undeclared input', wf: call('    with:\n      image: x\n      platform: linux/amd64\n'), problem: /input 'platform' is not declared/ },
    {
      name: 'a number for a string input (unquoted 2.10)',
      wf: call('    with:\n      image: x\n      torch-version: 2.10\n'),
      problem: /input 'torch-version' is a string; got 2.1/,
    },
    { name: 'a boolean for a string input', wf: call('    with:\n      image: x\n      push: false\n'), problem: /input 'push' is a string; got false/ },
    {
      name: 'a string for a number input',
      wf: call('    with:\n      image: x\n      build-timeout-minutes: "90"\n'),
      problem: /input 'build-timeout-minutes' is a number/,
    },
    {
      name: 'an undeclared secret',
      wf: call('    with:\n      image: x\n    secrets:\n      password: ${{ secrets.P }}\n'),
      problem: /secret 'password' is not declared/,
    },
  ])('catches $name', ({ wf, problem }) => {
    expect(lintReusableCalls(wf, build).join('\n')).toMatch(problem);
  });

  test('catches a missing required input (build.yml requires none: `image` may come from config)', () => {
    const requiring = { ...build, inputs: { ...build.inputs, image: { ...build.inputs.image, required: true } } };
    expect(lintReusableCalls(call('    with:\n      push: "false"\n'), requiring).join('\n')).toMatch(/required input 'image' is not given/);
  });

  test.each([
    { name: 'expressions for typed inputs', wf: call('    with:\n      image: x\n      build-timeout-minutes: ${{ matrix.t }}\n') },
    { name: 'secrets: inherit', wf: call('    with:\n      image: x\n    secrets: inherit\n') },
    { name: 'declared secrets', wf: call('    with:\n      image: x\n    secrets:\n      registry-password: ${{ secrets.P }}\n') },
  ])('accepts $name', ({ wf }) => {
    expect(lintReusableCalls(wf, build)).toEqual([]);
  });
});

describe('needs.*, steps.* and jobs.* references point at what exists', () => {
  test.each(FILES)('$name', ({ wf }) => {
    expect(lintReferences(wf, action, build)).toEqual([]);
  });

  test('the scanner finds references and skips string literals', () => {
    expect(refsIn(" needs.plan.outputs.push == 'true' && steps.image-1.outputs.digest != 'steps.x.outputs.y' ")).toEqual([
      { context: 'needs', name: 'plan', property: 'outputs', output: 'push' },
      { context: 'steps', name: 'image-1', property: 'outputs', output: 'digest' },
    ]);
    expect(refsIn('toJSON(needs) && github.event.steps')).toEqual([]);
  });

  const job = (steps: string, extra = '') => `    runs-on: x\n${extra}    steps:\n${steps}`;
  test.each([
    {
      name: 'needs.J of a job not in needs',
      text: wrap(`  a:\n${job('      - run: echo hi\n', '    outputs:\n      o: x\n')}  b:\n${job('      - run: echo ${{ needs.a.outputs.o }}\n')}`),
      problem: /needs.a but 'a' is not in this job's needs/,
    },
    {
      name: 'needs.J.outputs.O that J does not declare',
      text: wrap(
        `  a:\n${job('      - run: echo hi\n', '    outputs:\n      o: x\n')}  b:\n    needs: a\n${job('      - run: echo ${{ needs.a.outputs.p }}\n')}`,
      ),
      problem: /job 'a' has no output 'p'/,
    },
    {
      name: 'needs.J in an if: without ${{ }}',
      text: wrap(`  a:\n${job('      - run: echo hi\n')}  b:\n    if: needs.c.result == 'success'\n${job('      - run: echo hi\n')}`),
      problem: /needs.c but 'c' is not in this job's needs/,
    },
    {
      name: 'a step used before it runs',
      text: wrap(`  a:\n${job('      - run: echo ${{ steps.s.outputs.o }}\n      - id: s\n        run: echo "o=1" >> "$GITHUB_OUTPUT"\n')}`),
      problem: /step 's' does not run before this point/,
    },
    {
      name: 'a step id that does not exist (job outputs)',
      text: wrap(`  a:\n${job('      - id: s\n        run: echo "o=1" >> "$GITHUB_OUTPUT"\n', '    outputs:\n      o: ${{ steps.t.outputs.o }}\n')}`),
      problem: /no step has id 't'/,
    },
    {
      name: 'an output action.yml does not declare',
      text: wrap(`  a:\n${job('      - id: s\n        uses: ./\n      - run: echo ${{ steps.s.outputs.manifest }}\n')}`),
      problem: /action.yml declares no output 'manifest'/,
    },
    {
      name: 'an output a run step never writes',
      text: wrap(`  a:\n${job('      - id: s\n        run: echo "o=1" >> "$GITHUB_OUTPUT"\n      - run: echo ${{ steps.s.outputs.other }}\n')}`),
      problem: /step 's' never writes 'other'/,
    },
    {
      name: 'a workflow_call output of an undeclared job output',
      text: wrap(
        `  a:\n${job('      - run: echo hi\n', '    outputs:\n      o: x\n')}`,
        'on:\n  workflow_call:\n    outputs:\n      d:\n        value: ${{ jobs.a.outputs.digest }}\npermissions: {}\n',
      ),
      problem: /job 'a' declares no output 'digest'/,
    },
  ])('catches $name', ({ text, problem }) => {
    expect(lintReferences(doc(text), action, build).join('\n')).toMatch(problem);
  });
});

describe('third-party actions are pinned to a commit SHA with a version comment', () => {
  test.each(FILES)('$name', ({ wf, raw }) => {
    expect(lintPins(wf, raw)).toEqual([]);
  });

  test.each([
    { name: 'a tag', line: 'actions/checkout@v4', problem: /not pinned to a 40-hex commit SHA/ },
    { name: 'a short SHA', line: 'actions/checkout@11bd719 # v4.2.2', problem: /not pinned to a 40-hex commit SHA/ },
    { name: 'a SHA without a version comment', line: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683', problem: /no '# vX.Y.Z' comment/ },
  ])('catches $name', ({ line, problem }) => {
    const raw = wrap(`  a:\n    runs-on: x\n    steps:\n      - uses: ${line}\n`);
    expect(lintPins(doc(raw), raw).join('\n')).toMatch(problem);
  });

  test('pins in use are 40-hex SHAs (own references excepted)', () => {
    const third = FILES.flatMap((f) => usesOf(f.wf)).filter((u) => !u.startsWith('./') && !u.startsWith('ml-image-build/'));
    expect(third.length).toBeGreaterThan(0);
    for (const u of third) expect(u).toMatch(/@[0-9a-f]{40}$/);
  });
});

describe('permissions and timeouts', () => {
  test.each(FILES)('$name', ({ wf }) => {
    expect(lintHygiene(wf)).toEqual([]);
  });

  test.each([
    { name: 'a job without timeout-minutes', text: wrap('  a:\n    runs-on: x\n    steps:\n      - run: echo hi\n'), problem: /no timeout-minutes/ },
    {
      name: 'write permissions at the top level',
      text: wrap('  a:\n    runs-on: x\n    timeout-minutes: 5\n    steps:\n      - run: echo\n', 'on: push\npermissions:\n  contents: write\n'),
      problem: /top-level permissions/,
    },
    {
      name: 'packages: write on a job that does not push',
      text: wrap(
        "  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions:\n      packages: write\n    steps:\n      - uses: ./\n        with:\n          push: 'false'\n",
      ),
      problem: /packages: write but no step of it pushes/,
    },
    {
      name: 'a pushing job without packages: write',
      text: wrap(
        "  a:\n    runs-on: x\n    timeout-minutes: 5\n    steps:\n      - uses: ml-image-build/ml-image-build@v1\n        with:\n          push: 'true'\n",
      ),
      problem: /pushes but has no packages: write/,
    },
  ])('catches $name', ({ text, problem }) => {
    expect(lintHygiene(doc(text)).join('\n')).toMatch(problem);
  });

  test('the workflows of this repository set concurrency per workflow and ref', () => {
    for (const f of FILES.filter((x) => x.rel.startsWith('.github/'))) {
      expect({ file: f.rel, group: JSON.stringify(f.wf.concurrency ?? null) }).toEqual({ file: f.rel, group: expect.stringMatching(/github\.workflow/) });
    }
  });
});

describe('build.yml', () => {
  const wf = FILES.find((f) => f.rel === BUILD)!.wf;

  test('declares the inputs, secrets and outputs of its contract', () => {
    expect(Object.keys(build.inputs)).toEqual(
      expect.arrayContaining([
        'image',
        'context',
        'file',
        'platforms',
        'torch-version',
        'torch-variants',
        'torchaudio-version',
        'build-args',
        'tags',
        'push',
        'runner-amd64',
        'runner-arm64',
        'gpu-runner',
        'config',
      ]),
    );
    // Not required: every image of a config may name its own; the plan refuses a run that names none.
    expect(build.inputs.image).toMatchObject({ type: 'string', default: '' });
    expect(build.inputs['gpu-on-fork-pull-requests']).toMatchObject({ type: 'boolean', default: false });
    expect(build.inputs.push).toMatchObject({ type: 'string', default: 'auto' });
    expect(build.inputs.platforms.default).toBe('linux/amd64,linux/arm64');
    expect(build.inputs['runner-amd64'].default).toBe('ubuntu-24.04');
    expect(build.inputs['runner-arm64'].default).toBe('ubuntu-24.04-arm');
    expect(build.inputs['buildx-driver'].default).toBe('docker');
    expect(Object.keys(build.secrets).sort()).toEqual(['build-secrets', 'registry-password', 'registry-username']);
    expect(Object.values(build.secrets).every((s) => !s?.required)).toBe(true);
    expect(Object.keys(build.outputs).sort()).toEqual(['digest', 'report', 'tags']);
  });

  test("uses the published action, never ./ (it would resolve in the caller's checkout)", () => {
    const uses = actionSteps(wf).map((s) => s.step.uses);
    expect(uses.length).toBeGreaterThan(0);
    expect(new Set(uses)).toEqual(new Set(['ml-image-build/ml-image-build@v1']));
  });

  test('publish runs only when pushing, every platform job passed and the GPU lane passed or was not asked for', () => {
    expect(wf.jobs.publish.needs).toEqual(expect.arrayContaining(['plan', 'build', 'gpu-verify']));
    const runs = (push: string, build: string, gpu: string, status: 'success' | 'failure' | 'cancelled' = 'success') =>
      evaluateIf(String(wf.jobs.publish.if), { needs: { plan: { outputs: { push } }, build: { result: build }, 'gpu-verify': { result: gpu } } }, status);
    expect(runs('true', 'success', 'skipped')).toBe(true);
    expect(runs('true', 'success', 'success')).toBe(true);
    expect(runs('true', 'success', 'failure')).toBe(false);
    expect(runs('true', 'failure', 'skipped')).toBe(false);
    expect(runs('false', 'skipped', 'skipped')).toBe(false);
    // The GPU lane failing makes the run's status failure; publish's own condition still decides.
    expect(runs('true', 'success', 'skipped', 'failure')).toBe(true);
    expect(runs('true', 'success', 'skipped', 'cancelled')).toBe(false);
  });

  test('QEMU is set up only for rows that need it', () => {
    for (const job of ['build', 'verify']) {
      const qemu = (wf.jobs[job].steps ?? []).filter((s) => String(s.uses).startsWith('docker/setup-qemu-action@'));
      expect(qemu).toHaveLength(1);
      expect(evaluateIf(String(qemu[0].if), { matrix: { platform: 'linux/arm64', qemu: true } })).toBe(true);
      expect(evaluateIf(String(qemu[0].if), { matrix: { platform: 'linux/arm64', qemu: false } })).toBe(false);
      expect(evaluateIf(String(qemu[0].if), { matrix: { platform: 'linux/amd64', qemu: false } })).toBe(false);
    }
  });

  test('digests of images cpu and cpu-slim: the merge of cpu collects exactly its own two (the download pattern and the collect step, run)', () => {
    const rows = ['cpu', 'cpu-slim'].flatMap((image) => [
      { image, platform: 'linux/amd64', arch: 'amd64' },
      { image, platform: 'linux/arm64', arch: 'arm64' },
    ]);
    const digestOf = (r: { image: string; arch: string }) => `sha256:${crypto.createHash('sha256').update(`${r.image}/${r.arch}`).digest('hex')}`;
    const got = collectDigests(rows, 'cpu', digestOf);
    const cpu = rows.filter((r) => r.image === 'cpu');
    expect(got.env).toEqual({ MLIB_JOB_PLATFORMS: 'linux/amd64,linux/arm64', MLIB_JOB_DIGESTS: cpu.map((r) => `${r.platform}=${digestOf(r)}`).join('\n') });
    // And a platform job that left no digest fails the step, naming the platform.
    expect(collectDigests(rows, 'cpu', digestOf, 'cpu-arm64').error).toMatch(/::error::no digest for linux\/arm64 .*\(looked for cpu-arm64\)/);
  });
  test.each([
    { name: 'a push to main', event: 'push', head: undefined, optIn: false, runs: true },
    { name: 'a pull request from a branch of the repository', event: 'pull_request', head: 'acme/worker', optIn: false, runs: true },
    { name: 'a pull request from a fork', event: 'pull_request', head: 'mallory/worker', optIn: false, runs: false },
    { name: 'a pull_request_target from a fork', event: 'pull_request_target', head: 'mallory/worker', optIn: false, runs: false },
    { name: 'a pull request from a fork, the caller opted in', event: 'pull_request', head: 'mallory/worker', optIn: true, runs: true },
  ])('the GPU lane on $name: runs $runs', ({ event, head, optIn, runs }) => {
    const contexts = (gpuRunner: string) => ({
      inputs: { 'gpu-runner': gpuRunner, 'gpu-on-fork-pull-requests': optIn },
      needs: { plan: { outputs: { platforms: 'linux/amd64,linux/arm64' } } },
      github: { event_name: event, repository: 'acme/worker', event: head ? { pull_request: { head: { repo: { full_name: head } } } } : {} },
    });
    expect(evaluateIf(String(wf.jobs['gpu-verify'].if), contexts('["self-hosted","gpu"]'))).toBe(runs);
    expect(evaluateIf(String(wf.jobs['gpu-verify'].if), contexts(''))).toBe(false); // no GPU runner, no lane
  });
});

/**
 * Runs build.yml's "Collect digests" step as the runner would: the digest files the platform jobs
 * of `rows` uploaded (less `missing`), downloaded by publish's pattern for `image`; returns what
 * the step appended to $GITHUB_ENV, or its error line.
 */
function collectDigests(rows: Row[], image: string, digestOf: (r: Row) => string, missing?: string): { env?: Record<string, string>; error?: string } {
  const wf = FILES.find((f) => f.rel === BUILD)!.wf;
  // What the build jobs upload: one artifact per image and platform, holding the file IMAGE-ARCH.
  const upload = (wf.jobs.build.steps ?? []).find((s) => String(s.uses).startsWith('actions/upload-artifact@') && String(s.with?.name).startsWith('digest-'));
  expect(path.basename(String(upload?.with?.path))).toBe('${{ matrix.image }}-${{ matrix.arch }}');
  const artifactOf = (r: Row) => evaluateValue(upload?.with?.name, { needs: { plan: { outputs: { key: 'k1' } } }, matrix: r });
  // The merge job of `image` downloads what its pattern matches (download-artifact filters with minimatch).
  const download = (wf.jobs.publish.steps ?? []).find((s) => String(s.uses).startsWith('actions/download-artifact@'));
  expect(download?.with?.['merge-multiple']).toBe(true);
  const pattern = evaluateValue(download?.with?.pattern, { needs: { plan: { outputs: { key: 'k1' } } }, matrix: { image } });
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-digests-'));
  try {
    fs.mkdirSync(path.join(temp, 'digests'));
    for (const r of rows.filter((x) => minimatch(artifactOf(x), pattern))) {
      if (`${r.image}-${r.arch}` !== missing) fs.writeFileSync(path.join(temp, 'digests', `${r.image}-${r.arch}`), `${r.platform}=${digestOf(r)}\n`);
    }
    const collect = (wf.jobs.publish.steps ?? []).find((s) => s.name === 'Collect digests');
    const envFile = path.join(temp, 'env');
    fs.writeFileSync(envFile, '');
    const env = {
      ...process.env,
      ...stepEnv(collect, { needs: { plan: { outputs: { matrix: JSON.stringify({ include: rows }) } } }, matrix: { image } }),
      RUNNER_TEMP: temp,
      GITHUB_ENV: envFile,
    };
    try {
      execFileSync('bash', ['-c', String(collect?.run)], { env, stdio: 'pipe' });
    } catch (e) {
      return { error: String((e as { stdout: Buffer }).stdout) };
    }
    return { env: readCommandFile(fs.readFileSync(envFile, 'utf8')) };
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** A step's env: block, evaluated. */
function stepEnv(step: Step | undefined, contexts: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries((step?.env ?? {}) as Record<string, string>).map(([k, v]) => [k, evaluateValue(v, { ...ALL_CONTEXTS, ...contexts })]),
  );
}

/** Every context a with-value may name; a test overrides the ones it sets. */
const ALL_CONTEXTS = { inputs: {}, env: {}, matrix: {}, needs: {}, secrets: {}, github: {}, steps: {}, strategy: {}, runner: {}, vars: {}, job: {} };

/**
 * The inputs of action.yml that build.yml does not take from the caller as given, and why. Every
 * other input of action.yml must be forwarded (`NAME: ${{ inputs.NAME }}` in the with-block):
 * a new action input fails 'every input of action.yml ...' below until it is one or the other.
 */
const SET_PER_JOB: Record<string, string> = {
  mode: "each job's part: all for the plan's dry run, platform for the platform jobs, merge for publish",
  'dry-run': 'the plan job only',
  push: "the caller's in the plan, which resolves auto once; then true in build and publish, false in verify and gpu-verify",
  platforms: "the caller's in the plan; one platform per platform job; the image's platforms in publish",
  gpu: 'the GPU lane only (gpu-runner)',
  digests: "the platform jobs' digests, in publish",
  'build-time': "the plan job's time, in every later job",
  select: "the matrix row's image of the config",
  'registry-username': 'the registry-username secret (default github.actor), only in the jobs that push',
  'registry-password': 'the registry-password secret (default github.token), only in the jobs that push',
  secrets: 'the build-secrets secret, in the platform jobs only: a workflow input would be printed and kept with the run',
};
const NOT_PASSED: Record<string, string> = {
  parallel: 'one platform per job: nothing runs side by side',
  'worker-token': 'each job generates its own (masked); a fixed one would be one more secret in jobs that run pull request code',
  'secret-files': "a file on the caller's runner does not exist on the callee's",
  ssh: "the callee's runner has no agent of the caller's",
};
/** Inputs of build.yml that are the workflow's own, not the action's. */
const WORKFLOW_OWN = ['runner-amd64', 'runner-arm64', 'gpu-runner', 'gpu-on-fork-pull-requests', 'build-timeout-minutes', 'buildx-driver'];

describe("build.yml: one with-block for every job, the caller's inputs forwarded", () => {
  const wf = FILES.find((f) => f.rel === BUILD)!.wf;
  const steps = actionSteps(wf);
  const block = steps[0].step.with ?? {};
  const forwarded = Object.keys(block).filter((k) => block[k] === `\${{ inputs.${k} }}`);

  test('every job that runs the action passes the same with-block (one anchor, aliased)', () => {
    expect(steps.map((s) => s.job)).toEqual(['plan', 'build', 'verify', 'gpu-verify', 'publish']);
    for (const s of steps) expect({ job: s.job, with: s.step.with }).toEqual({ job: s.job, with: block });
  });

  test.each(Object.keys(action.inputs).map((input) => ({ input })))(
    'every input of action.yml is forwarded, set per job, or not passed, with a reason: $input',
    ({ input }) => {
      const how = [forwarded.includes(input) && 'forwarded', input in SET_PER_JOB && 'set per job', input in NOT_PASSED && 'not passed'].filter(Boolean);
      expect({ input, how }).toEqual({ input, how: [expect.any(String)] });
      if (input in NOT_PASSED) expect(block).not.toHaveProperty(input);
      if (input in SET_PER_JOB) expect(block).toHaveProperty(input);
    },
  );

  test('a forwarded input is declared by build.yml as a string defaulting to empty (the action, or the config file, decides)', () => {
    expect(forwarded.length).toBeGreaterThanOrEqual(30);
    for (const name of forwarded) expect({ name, spec: build.inputs[name] }).toEqual({ name, spec: expect.objectContaining({ type: 'string', default: '' }) });
  });

  test("every input of build.yml is used: forwarded, read in a job, or the workflow's own", () => {
    const used = (name: string) => new RegExp(`inputs\\.${name.replace(/-/g, '\\-')}(?![\\w-])`).test(JSON.stringify([wf.jobs, wf.concurrency]));
    for (const name of Object.keys(build.inputs)) expect({ name, used: used(name) }).toEqual({ name, used: true });
    for (const name of WORKFLOW_OWN) expect(build.inputs).toHaveProperty(name);
  });

  test('docs/workflows.md lists every input of build.yml, and the action inputs it does not forward with their reasons', () => {
    const docs = read('docs/workflows.md');
    // The first table under a heading, its first column.
    const firstColumn = (heading: string) => {
      const after = docs.slice(docs.indexOf(heading)).split('\n');
      const start = after.findIndex((l) => l.startsWith('|'));
      const table = after.slice(start, start + after.slice(start).findIndex((l) => !l.startsWith('|')));
      return table.flatMap((l) => /^\| `([a-z0-9-]+)` \|/.exec(l)?.[1] ?? []);
    };
    expect(docs).toContain('### Inputs, secrets and outputs of `build.yml`');
    expect(firstColumn('### Inputs, secrets and outputs of `build.yml`').sort()).toEqual(Object.keys(build.inputs).sort());
    expect(firstColumn('### Action inputs the workflow sets itself').sort()).toEqual([...Object.keys(SET_PER_JOB), ...Object.keys(NOT_PASSED)].sort());
  });
});

describe("build.yml: what each job's with-block evaluates to", () => {
  const wf = FILES.find((f) => f.rel === BUILD)!.wf;
  const TIME = '2026-01-01T23:59:58Z';
  const TOKEN = 'ghs-the-jobs-token';
  const SECRET = 'caller-registry-password';
  // Every forwarded input gets a value of its own, to see it arrive unchanged in every job.
  const callerInputs = Object.fromEntries(
    Object.entries(build.inputs).map(([k, spec]) => [k, spec.type === 'string' && spec.default === '' ? `caller's ${k}` : spec.default]),
  );
  const rows: Row[] = [
    { image: 'default', platform: 'linux/amd64', arch: 'amd64' },
    { image: 'default', platform: 'linux/arm64', arch: 'arm64' },
  ];
  const digestOf = (r: Row) => `sha256:${crypto.createHash('sha256').update(r.arch).digest('hex')}`;
  const lines = rows.map((r) => `${r.platform}=${digestOf(r)}`).join('\n');

  /** The with-block of `job` as the runner hands it to the action: job env evaluated first, then each value. */
  function evaluated(
    job: string,
    o: {
      matrix?: Record<string, unknown>;
      secrets?: Record<string, string | undefined>;
      inputs?: Record<string, unknown>;
      stepEnv?: Record<string, string>;
    } = {},
  ) {
    const contexts = {
      ...ALL_CONTEXTS,
      inputs: { ...callerInputs, ...o.inputs },
      matrix: o.matrix ?? {},
      secrets: o.secrets ?? {},
      github: { actor: 'octocat', token: TOKEN, event_name: 'schedule', repository: 'acme/worker' },
      needs: job === 'plan' ? {} : { plan: { outputs: { time: TIME, push: 'true', matrix: JSON.stringify({ include: rows }), key: 'k1' } } },
    };
    const env = { ...Object.fromEntries(Object.entries(wf.jobs[job].env ?? {}).map(([k, v]) => [k, evaluateValue(v, contexts)])), ...o.stepEnv };
    const [s] = actionSteps(wf).filter((x) => x.job === job);
    return { env, with: Object.fromEntries(Object.entries(s.step.with ?? {}).map(([k, v]) => [k, evaluateValue(v, { ...contexts, env })])) };
  }
  const publishEnv = () => collectDigests(rows, 'default', digestOf).env;

  test.each([
    {
      name: "plan: a dry run of every platform with the caller's push; no build-time, no credentials",
      job: 'plan',
      want: {
        mode: '',
        'dry-run': 'true',
        push: "caller's push",
        platforms: "caller's platforms",
        gpu: '',
        digests: '',
        'build-time': '',
        select: '',
        'registry-username': '',
        'registry-password': '',
      },
    },
    {
      name: "build: its platform, pushed, with the job's token and the plan's time",
      job: 'build',
      matrix: rows[1],
      want: {
        mode: 'platform',
        'dry-run': '',
        push: 'true',
        platforms: 'linux/arm64',
        gpu: '',
        digests: '',
        'build-time': TIME,
        'registry-username': 'octocat',
        'registry-password': TOKEN,
      },
    },
    {
      name: "build with the caller's registry secrets",
      job: 'build',
      matrix: rows[0],
      secrets: { 'registry-username': 'robot', 'registry-password': SECRET },
      want: { platforms: 'linux/amd64', push: 'true', 'registry-username': 'robot', 'registry-password': SECRET },
    },
    {
      name: 'verify: its platform, not pushed, no credentials although the caller gave some',
      job: 'verify',
      matrix: rows[1],
      secrets: { 'registry-username': 'robot', 'registry-password': SECRET },
      want: {
        mode: 'platform',
        'dry-run': '',
        push: 'false',
        platforms: 'linux/arm64',
        gpu: '',
        digests: '',
        'build-time': TIME,
        'registry-username': '',
        'registry-password': '',
      },
    },
    {
      name: 'gpu-verify: linux/amd64 with gpu, not pushed, no credentials',
      job: 'gpu-verify',
      matrix: { image: 'default' },
      secrets: { 'registry-password': SECRET },
      want: {
        mode: 'platform',
        push: 'false',
        platforms: 'linux/amd64',
        gpu: 'true',
        digests: '',
        'build-time': TIME,
        'registry-username': '',
        'registry-password': '',
      },
    },
    {
      name: "publish: a merge of the platform jobs' digests with the plan's time and the credentials",
      job: 'publish',
      matrix: { image: 'default' },
      stepEnv: 'collected',
      want: {
        mode: 'merge',
        'dry-run': '',
        push: 'true',
        platforms: 'linux/amd64,linux/arm64',
        gpu: '',
        digests: lines,
        'build-time': TIME,
        'registry-username': 'octocat',
        'registry-password': TOKEN,
      },
    },
  ])('$name', ({ job, matrix, secrets, want, stepEnv: fromStep }) => {
    const got = evaluated(job, {
      matrix,
      secrets,
      inputs: { push: "caller's push", platforms: "caller's platforms" },
      stepEnv: fromStep ? publishEnv() : undefined,
    });
    expect(got.with).toMatchObject(want);
    for (const name of Object.keys(got.with).filter((k) => !(k in SET_PER_JOB) && !(k in NOT_PASSED))) {
      expect({ name, value: got.with[name] }).toEqual({ name, value: callerInputs[name] });
    }
  });

  test.each([
    { name: 'the plan, push true from the caller', job: 'plan', inputs: { push: 'true' } },
    { name: 'verify', job: 'verify', matrix: rows[0] },
    { name: 'gpu-verify', job: 'gpu-verify', matrix: { image: 'default' } },
  ])('no registry secret nor job token reaches the action or the env of $name', ({ job, inputs, matrix }) => {
    const got = JSON.stringify(evaluated(job, { matrix, inputs, secrets: { 'registry-username': 'robot', 'registry-password': SECRET } }));
    expect(got).not.toContain(SECRET);
    expect(got).not.toContain(TOKEN);
    expect(got).not.toContain('robot');
  });

  test.each([
    { job: 'plan', want: '' },
    { job: 'build', matrix: rows[0], want: 'PIP_INDEX_TOKEN=s3cr3t' },
    { job: 'verify', matrix: rows[1], want: 'PIP_INDEX_TOKEN=s3cr3t' },
    { job: 'gpu-verify', matrix: { image: 'default' }, want: 'PIP_INDEX_TOKEN=s3cr3t' },
    { job: 'publish', matrix: { image: 'default' }, stepEnv: true, want: '' },
  ])('build-secrets reach the action as secrets in the jobs that build only: $job', ({ job, matrix, stepEnv, want }) => {
    const got = evaluated(job, { matrix, secrets: { 'build-secrets': 'PIP_INDEX_TOKEN=s3cr3t' }, stepEnv: stepEnv ? publishEnv() : undefined });
    expect(got.with.secrets).toBe(want);
  });

  test.each([
    { name: 'without a config: no select', config: '', matrix: { image: 'default' }, want: '' },
    { name: "with a config: the row's image", config: 'ml-image.yml', matrix: { image: 'cpu-slim' }, want: 'cpu-slim' },
  ])('select in every job but the plan, $name', ({ config, matrix, want }) => {
    for (const job of ['build', 'verify', 'gpu-verify', 'publish'])
      expect({ job, select: evaluated(job, { matrix, inputs: { config } }).with.select }).toEqual({ job, select: want });
    expect(evaluated('plan', { inputs: { config } }).with.select).toBe('');
  });

  test.each([
    { name: 'the default', driver: undefined, want: 'docker' },
    { name: 'docker-container (for cache-to type=gha)', driver: 'docker-container', want: 'docker-container' },
  ])('the platform jobs set up buildx with the driver of buildx-driver: $name', ({ driver, want }) => {
    expect(build.inputs['buildx-driver']).toMatchObject({ type: 'string', default: 'docker' });
    for (const job of ['build', 'verify', 'gpu-verify']) {
      const setup = (wf.jobs[job].steps ?? []).filter((s) => String(s.uses).startsWith('docker/setup-buildx-action@'));
      expect(setup).toHaveLength(1);
      const inputs = { 'buildx-driver': driver ?? build.inputs['buildx-driver'].default };
      expect({ job, driver: evaluateValue(setup[0].with?.driver, { ...ALL_CONTEXTS, inputs }) }).toEqual({ job, driver: want });
    }
  });
});

describe("build.yml: a nightly that crosses midnight UTC publishes the plan's tags", () => {
  const wf = FILES.find((f) => f.rel === BUILD)!.wf;
  const schedule = runContext({ eventName: 'schedule', ref: 'refs/heads/main', defaultBranch: 'main' });

  /** The plan job's Matrix step, run: its outputs for the given plan outputs. */
  function matrixStep(outputs: { plan: string; matrix: string }): { out?: Record<string, string>; error?: string } {
    const step = (wf.jobs.plan.steps ?? []).find((s) => s.id === 'matrix');
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-matrix-'));
    try {
      const file = path.join(temp, 'output');
      fs.writeFileSync(file, '');
      const env = {
        ...process.env,
        ...stepEnv(step, { steps: { plan: { outputs } }, inputs: { 'runner-amd64': 'ubuntu-24.04', 'runner-arm64': 'ubuntu-24.04-arm' } }),
        GITHUB_OUTPUT: file,
      };
      try {
        execFileSync('bash', ['-c', String(step?.run)], { env, stdio: 'pipe' });
      } catch (e) {
        return { error: String((e as { stderr: Buffer }).stderr) };
      }
      return { out: readCommandFile(fs.readFileSync(file, 'utf8')) };
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }

  // The plan job runs at 23:59:58 on 1 January; the merge starts at 00:03 on 2 January.
  const planned = createPlan(inputs(), schedule, new Date('2026-01-01T23:59:58.400Z'));
  const { out } = matrixStep(planOutputs([planned]));

  test("the plan job's time output is the plan's created time", () => {
    expect(out?.time).toBe('2026-01-01T23:59:58Z');
    expect(wf.jobs.plan.outputs?.time).toBe('${{ steps.matrix.outputs.time }}');
  });

  test("the merge, given it as build-time, makes the plan's tags and created label; on its own clock it would not", () => {
    const publish = wf.jobs.publish;
    const env = Object.fromEntries(
      Object.entries(publish.env ?? {}).map(([k, v]) => [k, evaluateValue(v, { ...ALL_CONTEXTS, needs: { plan: { outputs: { time: out?.time } } } })]),
    );
    const [merge] = actionSteps(wf).filter((s) => s.job === 'publish');
    const buildTime = evaluateValue(merge.step.with?.['build-time'], { ...ALL_CONTEXTS, env });
    const afterMidnight = new Date('2026-01-02T00:03:00Z');
    const mergePlan = createPlan(inputs({ buildTime: parseBuildTime(buildTime) }), schedule, parseBuildTime(buildTime) ?? afterMidnight);
    expect(mergePlan.tags).toEqual(planned.tags);
    expect(mergePlan.tags).toContain('nightly-20260101');
    expect(mergePlan.labels['org.opencontainers.image.created']).toBe(planned.labels['org.opencontainers.image.created']);
    expect(createPlan(inputs(), schedule, afterMidnight).tags).not.toEqual(planned.tags);
  });

  test('the step fails on a plan whose images carry different times (one run has one time)', () => {
    const other = createPlan(inputs(), schedule, new Date('2026-01-02T00:00:01Z'), { name: 'slim', suffix: '-slim' });
    expect(matrixStep(planOutputs([planned, other])).error).toMatch(/no single created time/);
  });
});

describe('ci.yml', () => {
  test('self-tests this checkout with uses: ./ on examples/worker, linux/amd64, push false', () => {
    const wf = FILES.find((f) => f.rel === '.github/workflows/ci.yml')!.wf;
    const own = actionSteps(wf).filter((s) => s.step.uses === './' && s.step.with?.['dry-run'] === undefined);
    expect(own.map((s) => s.step.with)).toEqual([expect.objectContaining({ context: 'examples/worker', platforms: 'linux/amd64', push: 'false' })]);
    const steps = wf.jobs[own[0].job].steps ?? [];
    expect(String(steps[0].uses)).toMatch(/^actions\/checkout@/);
  });
});
