import { createPlan } from '../../src/plan/plan';
import type { Published } from '../../src/publish/publish';
import { buildReport, summaryMarkdown, type Timings } from '../../src/report/report';
import type { PlatformVerification } from '../../src/verify/verify';
import { DIGEST_A, DIGEST_B, DIGEST_LIST, FROZEN_NOW, inputs, pingBody, probe, runContext, SHA7 } from './fixtures';

const plan = createPlan(inputs(), runContext(), FROZEN_NOW);

const passedAmd: PlatformVerification = {
  platform: 'linux/amd64',
  passed: true,
  findings: [],
  ping: { status: 200, body: pingBody() },
  probe: probe(),
  readySeconds: 4.26,
};
const failedArm: PlatformVerification = {
  platform: 'linux/arm64',
  passed: false,
  findings: [{ check: 'torch version', expected: '2.2.2', actual: '2.2.2+cpu' }],
  ping: { status: 200, body: pingBody() },
  probe: probe({ torch: '2.2.2+cpu', torchaudio: '2.2.2', cuda: null, machine: 'aarch64' }),
  readySeconds: 30.04,
};
const passedArm: PlatformVerification = {
  ...failedArm,
  passed: true,
  findings: [],
  probe: probe({ torch: '2.2.2', torchaudio: '2.2.2', cuda: null, machine: 'aarch64' }),
};
const timings = new Map<string, Timings>([
  ['linux/amd64', { build: 61.234, verify: 5.06 }],
  ['linux/arm64', { build: 299.96 }],
]);
const published: Published = {
  digest: DIGEST_LIST,
  tags: ['ghcr.io/org/worker:latest', `ghcr.io/org/worker:${SHA7}`],
  platforms: { 'linux/amd64': DIGEST_A, 'linux/arm64': DIGEST_B },
  complete: true,
  tagReport: [
    { tag: 'latest', now: DIGEST_LIST, fate: 'moved' },
    { tag: SHA7, now: DIGEST_LIST, fate: 'moved' },
  ],
  pushes: {},
};

const results = (...vs: PlatformVerification[]) => new Map(vs.map((v) => [v.platform, v]));

describe('buildReport', () => {
  const failed = buildReport(plan, results(passedAmd, failedArm), timings);
  const [amd, arm] = failed;

  test.each([
    { name: 'one entry per platform in plan order', pick: () => failed.map((r) => r.platform), want: ['linux/amd64', 'linux/arm64'] },
    { name: 'amd64 passed', pick: () => amd.passed, want: true },
    { name: 'arm64 failed', pick: () => arm.passed, want: false },
    { name: 'amd64 image is the platform ref', pick: () => amd.image, want: `ghcr.io/org/worker:${SHA7}-amd64` },
    { name: 'variant comes from the plan', pick: () => [amd.variant, arm.variant], want: ['cu121', 'cpu'] },
    { name: 'expected comes from the plan', pick: () => arm.expected, want: { torch: '2.2.2', torchaudio: '2.2.2', cuda: null } },
    { name: 'seen comes from the probe', pick: () => arm.seen, want: { torch: '2.2.2+cpu', torchaudio: '2.2.2', cuda: null, machine: 'aarch64' } },
    { name: 'findings are kept', pick: () => arm.findings, want: [{ check: 'torch version', expected: '2.2.2', actual: '2.2.2+cpu' }] },
    { name: 'ping is kept', pick: () => amd.ping, want: { status: 200, body: pingBody() } },
    { name: 'timings round to a tenth of a second', pick: () => amd.timings, want: { buildSeconds: 61.2, readySeconds: 4.3, verifySeconds: 5.1 } },
    { name: 'a missing timing is null', pick: () => arm.timings, want: { buildSeconds: 300, readySeconds: 30, verifySeconds: null } },
    { name: 'no digest without publishing', pick: () => [amd.digest, arm.digest], want: [null, null] },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });

  test('a platform without a verification result is not passed and has empty values', () => {
    const [, r] = buildReport(plan, results(passedAmd), new Map());
    expect(r).toMatchObject({
      platform: 'linux/arm64',
      passed: false,
      findings: [],
      ping: null,
      seen: { torch: null, torchaudio: null, cuda: null, machine: null },
      timings: { buildSeconds: null, readySeconds: null, verifySeconds: null },
    });
  });

  test('published digests are recorded per platform', () => {
    const r = buildReport(plan, results(passedAmd, passedArm), timings, published);
    expect(r.map((x) => x.digest)).toEqual([DIGEST_A, DIGEST_B]);
  });
});

describe('summaryMarkdown', () => {
  const rowOf = (md: string, platform: string) => md.split('\n').find((l) => l.startsWith(`| ${platform} |`)) ?? '';

  describe('one platform passed, one failed, nothing published', () => {
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd, failedArm), timings));
    test.each([
      { name: 'heading names the image', want: '### ml-image-build: ghcr.io/org/worker' },
      {
        name: 'says nothing was published because verification failed',
        want: 'Nothing was published: not every platform passed verification; no tag was moved.',
      },
      { name: 'the passed row shows what was seen', want: '| linux/amd64 | cu121 | 2.2.2+cu121 | 2.2.2+cu121 | 12.1 | 200 | 61.2 | 4.3 | passed |' },
      {
        name: 'the failed row shows expected and got',
        want: '| linux/arm64 | cpu | 2.2.2+cpu | 2.2.2 | none | 200 | 300 | 30 | failed: torch version (expected 2.2.2, got 2.2.2+cpu) |',
      },
    ])('$name', ({ want }) => {
      expect(md.split('\n')).toContain(want);
    });

    test('no Published line', () => {
      expect(md).not.toContain('Published manifest list');
    });

    test('ends with a newline', () => {
      expect(md.endsWith('\n')).toBe(true);
    });
  });

  test.each([
    { name: 'push false says so', pushRequested: false, want: 'Nothing was published: `push` is false.' },
    {
      name: 'push true, all passed, nothing published: the run ended before the images were pushed',
      pushRequested: true,
      want: 'Nothing was published: the run ended before every platform image was pushed; no tag was moved.',
    },
    {
      name: 'all passed, the push failed: the summary names the publish failure, not verification',
      pushRequested: true,
      stopped: { phase: 'publish', message: 'linux/arm64: PUT manifest: 503 Service Unavailable after 3 attempts\nmore detail' },
      want: 'Nothing was published: the run stopped during publish (linux/arm64: PUT manifest: 503 Service Unavailable after 3 attempts); no tag was moved.',
    },
    {
      name: 'all passed, cancelled while pushing',
      pushRequested: true,
      stopped: { phase: 'publish', message: 'aborted', cancelled: true },
      want: 'Nothing was published: the run was cancelled during publish; no tag was moved.',
    },
    {
      name: 'all passed, the login was refused',
      pushRequested: true,
      stopped: { phase: 'login', message: 'ghcr.io refused the credentials | 401' },
      want: 'Nothing was published: the run stopped during login (ghcr.io refused the credentials \\| 401); no tag was moved.',
    },
  ])('$name', ({ pushRequested, want, stopped }) => {
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd, passedArm), timings), undefined, pushRequested, undefined, stopped);
    expect(md.split('\n')).toContain(want);
    expect(md).not.toContain('passed verification');
  });

  test('a platform that failed verification is named as the cause even when the run then stopped in publish', () => {
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd, failedArm), timings), undefined, true, undefined, {
      phase: 'verify',
      message: 'linux/arm64 failed',
    });
    expect(md.split('\n')).toContain('Nothing was published: not every platform passed verification; no tag was moved.');
  });

  test('a platform never verified shows not verified and dashes', () => {
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd), new Map()));
    expect(rowOf(md, 'linux/arm64')).toBe('| linux/arm64 | cpu | - | - | none | - | - | - | not verified |');
  });

  test('a | inside a finding is escaped so the table holds', () => {
    const odd: PlatformVerification = { ...failedArm, findings: [{ check: 'ping body', expected: 'a JSON object', actual: '"a|b"' }] };
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd, odd), timings));
    expect(rowOf(md, 'linux/arm64')).toContain('got "a\\|b")');
  });

  test('platform mode: pushed by digest, no tag listed', () => {
    const byDigest = { ...published, tags: [], tagReport: [] };
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd, passedArm), timings, byDigest), byDigest);
    expect(md.split('\n')).toContain(`Pushed by digest, without a tag: \`${byDigest.digest}\`.`);
    expect(md).not.toContain('Published manifest list');
  });

  describe('all passed and published', () => {
    const md = summaryMarkdown(plan, buildReport(plan, results(passedAmd, passedArm), timings, published), published);
    test.each([
      { name: 'shows the list digest', want: `Published manifest list \`${DIGEST_LIST}\` as:` },
      { name: 'lists the latest tag', want: '- `ghcr.io/org/worker:latest`' },
      { name: 'lists the sha tag', want: `- \`ghcr.io/org/worker:${SHA7}\`` },
      { name: 'both rows passed (arm64)', want: '| linux/arm64 | cpu | 2.2.2 | 2.2.2 | none | 200 | 300 | 30 | passed |' },
    ])('$name', ({ want }) => {
      expect(md.split('\n')).toContain(want);
    });

    test('does not say nothing was published', () => {
      expect(md).not.toContain('Nothing was published');
    });
  });
});

describe('summary of the checks beyond ping and probe', () => {
  const checked: PlatformVerification = {
    ...passedAmd,
    hygiene: {
      user: 'worker',
      uid: 10001,
      modelCache: '/models',
      cacheWritable: true,
      healthySeconds: 2.24,
      offline: true,
      memoryLimit: 512 * 2 ** 20,
      peakMemory: 21 * 2 ** 20,
    },
    checks: [
      { name: 'whisper model cached', passed: true, attempts: 1 },
      { name: 'diarization | available', passed: false, attempts: 3 },
    ],
    size: {
      platform: 'linux/amd64',
      uncompressed: 2_400_000_000,
      compressed: 1_200_000_000,
      compressedBy: 'pushed',
      layers: 6,
      level: 6,
      largestLayers: [{ index: 3, uncompressed: 2_000_000_000, instruction: 'RUN pip install torch==2.2.2' }],
      published: { ref: 'ghcr.io/org/worker:latest', digest: DIGEST_A, compressed: 1_000_000_000 },
      growthPercent: 20,
      budget: {},
      passed: true,
      seconds: 0.2,
    },
  };
  const uncheckedArm: PlatformVerification = { ...passedArm, hygiene: { user: 'root', offline: false } };
  const entries = buildReport(plan, results(checked, uncheckedArm), timings);
  const md = summaryMarkdown(plan, entries, published);

  test.each([
    {
      name: 'the report carries hygiene, checks and size',
      got: () => [entries[0].hygiene?.uid, entries[0].checks.length, entries[0].size?.growthPercent, entries[1].checks],
      want: [10001, 2, 20, []],
    },
    {
      name: 'hygiene row, memory in MiB',
      got: () => md.split('\n').includes('| linux/amd64 | worker (uid 10001) | /models: writable | 2.2s | yes | 21 MiB / 512 MiB |'),
      want: true,
    },
    {
      name: 'a platform whose cache was not checked',
      got: () => md.split('\n').includes('| linux/arm64 | root | not checked | - | no | - / no limit |'),
      want: true,
    },
    {
      name: 'checks line, the pipe in a name escaped',
      got: () => md.split('\n').includes('Checks, linux/amd64: whisper model cached passed (1 attempt), diarization \\| available **failed** (3 attempts)'),
      want: true,
    },
    {
      name: 'size table with growth over the published image',
      got: () => /\| linux\/amd64 \| 1\.20 GB \| 2\.40 GB \| 1\.00 GB \| \+20\.0% \|/.test(md),
      want: true,
    },
    { name: 'largest layer with its instruction', got: () => md.includes('`RUN pip install torch==2.2.2`'), want: true },
  ])('$name', ({ got, want }) => {
    expect(got()).toEqual(want);
  });
});
