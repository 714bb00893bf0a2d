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
import {
  actionSteps,
  evaluateIf,
  lintActionSteps,
  lintHygiene,
  lintPins,
  lintReferences,
  lintReusableCalls,
  loadAction,
  loadYaml,
  refsIn,
  reusableCalls,
  reusableMeta,
  ROOT,
  usesOf,
  validateWorkflow,
  type Workflow,
} from './workflow-lint';

const BUILD = '.github/workflows/build.yml';

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
      text: wrap('  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n  b:\n    needs: [a, c]\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n'),
      error: /depends on unknown job 'c'/,
    },
    {
      name: 'an invalid cron schedule',
      text: wrap("  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n", "on:\n  schedule:\n    - cron: '61 * * * *'\n"),
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
});

describe("calls of build.yml pass its declared inputs, types and secrets", () => {
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
    { name: 'a number for a string input (unquoted 2.10)', wf: call('    with:\n      image: x\n      torch-version: 2.10\n'), problem: /input 'torch-version' is a string; got 2.1/ },
    { name: 'a boolean for a string input', wf: call('    with:\n      image: x\n      push: false\n'), problem: /input 'push' is a string; got false/ },
    { name: 'a string for a number input', wf: call('    with:\n      image: x\n      build-timeout-minutes: "90"\n'), problem: /input 'build-timeout-minutes' is a number/ },
    { name: 'an undeclared secret', wf: call('    with:\n      image: x\n    secrets:\n      password: ${{ secrets.P }}\n'), problem: /secret 'password' is not declared/ },
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
      text: wrap(`  a:\n${job('      - run: echo hi\n', '    outputs:\n      o: x\n')}  b:\n    needs: a\n${job('      - run: echo ${{ needs.a.outputs.p }}\n')}`),
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
      name: "an output action.yml does not declare",
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
      text: wrap(`  a:\n${job('      - run: echo hi\n', '    outputs:\n      o: x\n')}`, 'on:\n  workflow_call:\n    outputs:\n      d:\n        value: ${{ jobs.a.outputs.digest }}\npermissions: {}\n'),
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
    { name: 'write permissions at the top level', text: wrap('  a:\n    runs-on: x\n    timeout-minutes: 5\n    steps:\n      - run: echo\n', 'on: push\npermissions:\n  contents: write\n'), problem: /top-level permissions/ },
    {
      name: 'packages: write on a job that does not push',
      text: wrap("  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions:\n      packages: write\n    steps:\n      - uses: ./\n        with:\n          push: 'false'\n"),
      problem: /packages: write but no step of it pushes/,
    },
    {
      name: 'a pushing job without packages: write',
      text: wrap("  a:\n    runs-on: x\n    timeout-minutes: 5\n    steps:\n      - uses: ml-image-build/ml-image-build@v1\n        with:\n          push: 'true'\n"),
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
      expect.arrayContaining(['image', 'context', 'file', 'platforms', 'torch-version', 'torch-variants', 'torchaudio-version', 'build-args', 'tags', 'push', 'runner-amd64', 'runner-arm64', 'gpu-runner', 'config']),
    );
    // Not required: every image of a config may name its own; the plan refuses a run that names none.
    expect(build.inputs.image).toMatchObject({ type: 'string', default: '' });
    expect(build.inputs['gpu-on-fork-pull-requests']).toMatchObject({ type: 'boolean', default: false });
    expect(build.inputs.push).toMatchObject({ type: 'string', default: 'auto' });
    expect(build.inputs.platforms.default).toBe('linux/amd64,linux/arm64');
    expect(build.inputs['runner-amd64'].default).toBe('ubuntu-24.04');
    expect(build.inputs['runner-arm64'].default).toBe('ubuntu-24.04-arm');
    expect(Object.keys(build.secrets).sort()).toEqual(['registry-password', 'registry-username']);
    expect(Object.values(build.secrets).every((s) => !s?.required)).toBe(true);
    expect(Object.keys(build.outputs).sort()).toEqual(['digest', 'report', 'tags']);
  });

  test('uses the published action, never ./ (it would resolve in the caller\'s checkout)', () => {
    const uses = actionSteps(wf).map((s) => s.step.uses);
    expect(uses.length).toBeGreaterThan(0);
    expect(new Set(uses)).toEqual(new Set(['ml-image-build/ml-image-build@v1']));
  });

  test('plan is a dry run; platform jobs run mode platform on their matrix platform; publish merges', () => {
    const step = (job: string) => actionSteps(wf).filter((s) => s.job === job).map((s) => s.step.with ?? {});
    expect(step('plan')).toEqual([expect.objectContaining({ 'dry-run': 'true' })]);
    for (const job of ['build', 'verify']) {
      expect(step(job)).toEqual([expect.objectContaining({ mode: 'platform', platforms: '${{ matrix.platform }}' })]);
      expect(wf.jobs[job].strategy).toMatchObject({ 'fail-fast': false, matrix: '${{ fromJSON(needs.plan.outputs.matrix) }}' });
    }
    expect(step('build')[0].push).toBe('true');
    expect(step('verify')[0].push).toBe('false');
    expect(step('gpu-verify')).toEqual([expect.objectContaining({ gpu: 'true', push: 'false', platforms: 'linux/amd64' })]);
    expect(step('publish')).toEqual([expect.objectContaining({ mode: 'merge', digests: '${{ steps.digests.outputs.digests }}' })]);
  });

  test('publish needs every platform job and runs only when pushing and all passed', () => {
    expect(wf.jobs.publish.needs).toEqual(expect.arrayContaining(['plan', 'build', 'gpu-verify']));
    const cond = String(wf.jobs.publish.if);
    expect(cond).toMatch(/needs\.plan\.outputs\.push == 'true'/);
    expect(cond).toMatch(/needs\.build\.result == 'success'/);
    expect(cond).toMatch(/!cancelled\(\)/);
  });

  test('QEMU is set up only for rows that need it', () => {
    for (const job of ['build', 'verify']) {
      const qemu = (wf.jobs[job].steps ?? []).filter((s) => String(s.uses).startsWith('docker/setup-qemu-action@'));
      expect(qemu).toEqual([expect.objectContaining({ if: 'matrix.qemu' })]);
    }
  });

  test('digests of images cpu and cpu-slim: the merge of cpu collects exactly its own two (the download pattern and the collect step, run)', () => {
    // What the build jobs upload: one artifact per image and platform, holding the file IMAGE-ARCH.
    const upload = (wf.jobs.build.steps ?? []).find((s) => String(s.uses).startsWith('actions/upload-artifact@') && String(s.with?.name).startsWith('digest-'));
    expect(path.basename(String(upload?.with?.path))).toBe('${{ matrix.image }}-${{ matrix.arch }}');
    const key = 'k1';
    const rows = ['cpu', 'cpu-slim'].flatMap((image) => [{ image, platform: 'linux/amd64', arch: 'amd64' }, { image, platform: 'linux/arm64', arch: 'arm64' }]);
    const artifactOf = (r: { image: string; arch: string }) => String(upload?.with?.name).replace('${{ needs.plan.outputs.key }}', key).replace('${{ matrix.image }}', r.image).replace('${{ matrix.arch }}', r.arch);
    // The merge job of `cpu` downloads what its pattern matches (download-artifact filters with minimatch).
    const download = (wf.jobs.publish.steps ?? []).find((s) => String(s.uses).startsWith('actions/download-artifact@'));
    expect(download?.with?.['merge-multiple']).toBe(true);
    const pattern = String(download?.with?.pattern).replace('${{ needs.plan.outputs.key }}', key).replace('${{ matrix.image }}', 'cpu');
    const downloaded = rows.filter((r) => minimatch(artifactOf(r), pattern));
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-digests-'));
    try {
      fs.mkdirSync(path.join(temp, 'digests'));
      const digestOf = (r: { image: string; arch: string }) => `sha256:${crypto.createHash('sha256').update(`${r.image}/${r.arch}`).digest('hex')}`;
      for (const r of downloaded) fs.writeFileSync(path.join(temp, 'digests', `${r.image}-${r.arch}`), `${r.platform}=${digestOf(r)}\n`);
      const collect = (wf.jobs.publish.steps ?? []).find((s) => s.name === 'Collect digests');
      const output = path.join(temp, 'output');
      fs.writeFileSync(output, '');
      execFileSync('bash', ['-c', String(collect?.run)], { env: { ...process.env, MATRIX: JSON.stringify({ include: rows }), IMAGE_NAME: 'cpu', RUNNER_TEMP: temp, GITHUB_OUTPUT: output }, stdio: 'pipe' });
      const got = fs.readFileSync(output, 'utf8');
      expect(got).toContain('platforms=linux/amd64,linux/arm64\n');
      const cpu = rows.filter((r) => r.image === 'cpu');
      expect(got).toContain(`digests<<DIGESTS_EOF\n${cpu.map((r) => `${r.platform}=${digestOf(r)}`).join('\n')}\nDIGESTS_EOF\n`);
      // And a platform job that left no digest fails the step, naming the platform.
      fs.rmSync(path.join(temp, 'digests', 'cpu-arm64'));
      let said = '';
      try {
        execFileSync('bash', ['-c', String(collect?.run)], { env: { ...process.env, MATRIX: JSON.stringify({ include: rows }), IMAGE_NAME: 'cpu', RUNNER_TEMP: temp, GITHUB_OUTPUT: output }, stdio: 'pipe' });
      } catch (e) {
        said = String((e as { stdout: Buffer }).stdout);
      }
      expect(said).toMatch(/::error::no digest for linux\/arm64 .*\(looked for cpu-arm64\)/);
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
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

  test('with a config, every platform job and merge selects its own image', () => {
    for (const job of ['build', 'verify', 'publish']) {
      const [step] = actionSteps(wf).filter((s) => s.job === job);
      expect(step.step.with?.select).toBe("${{ inputs.config != '' && matrix.image || '' }}");
    }
    expect(wf.jobs.publish.strategy).toMatchObject({ 'fail-fast': false, matrix: { image: '${{ fromJSON(needs.plan.outputs.images) }}' } });
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
