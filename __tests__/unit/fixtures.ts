/** Small shared builders for the unit tests. Every builder takes overrides so a test states only what it varies. */
import { NO_BUILD_OPTIONS } from '../../src/builder/options';
import { refNameOf, type RunContext } from '../../src/context';
import type { Inputs, InputSource } from '../../src/inputs';
import { PLATFORMS } from '../../src/plan/platforms';
import type { PlatformPlan } from '../../src/plan/plan';
import type { ProbeResult } from '../../src/verify/contract';
import { DEFAULT_HYGIENE } from '../../src/verify/hygiene';

export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const SHA7 = '0123456';
/** Has milliseconds on purpose: BUILD_TIME must drop them. */
export const FROZEN_NOW = new Date('2026-01-02T03:04:05.678Z');
export const FROZEN_ISO = '2026-01-02T03:04:05Z';

export const AMD64 = PLATFORMS['linux/amd64'];
export const ARM64 = PLATFORMS['linux/arm64'];

/** The action's input source backed by a plain record; unset inputs read as '' like core.getInput. */
export function inputSource(rec: Record<string, string | undefined>): InputSource {
  return (name) => rec[name] ?? '';
}

/** A fully parsed Inputs value, as readInputs returns it for the defaults and image ghcr.io/org/worker. */
export function inputs(overrides: Partial<Inputs> = {}): Inputs {
  return {
    image: 'ghcr.io/org/worker',
    context: '.',
    file: './Dockerfile',
    platforms: [AMD64, ARM64],
    torchVersion: '2.2.2',
    torchaudioVersion: '2.2.2',
    torchvisionVersion: '',
    pythonVersion: '',
    allowUnknownTorch: false,
    torchVariants: { 'linux/amd64': 'cu121', 'linux/arm64': 'cpu' },
    torchIndexUrl: 'https://download.pytorch.org/whl',
    expect: {},
    buildArgs: [],
    target: '',
    network: '',
    tags: [],
    labels: {},
    annotations: [],
    provenance: false,
    sbom: false,
    tagRules: '',
    shaLength: 7,
    push: 'auto',
    dryRun: false,
    buildTime: undefined,
    pinLint: 'error',
    pinnedPackages: [],
    mode: 'all',
    digests: [],
    registryUsername: '',
    registryPassword: '',
    tokenEnv: 'WORKER_TOKEN',
    workerToken: '',
    pingPort: 8477,
    pingPath: '/v1/ping',
    startupTimeout: 120,
    gpu: false,
    python: 'python3',
    compressionLevel: 6,
    mountFrom: [],
    parallel: 'auto',
    checks: [],
    sizeBudget: { all: {}, platforms: {} },
    hygiene: { ...DEFAULT_HYGIENE },
    build: { ...NO_BUILD_OPTIONS },
    ...overrides,
  };
}

/**
 * A push to a feature branch of a repository whose default branch is main. refName follows an
 * overridden ref unless given; headRef/baseRef are '' and the event payload is empty unless given.
 */
export function runContext(overrides: Partial<RunContext> = {}): RunContext {
  const ref = overrides.ref ?? 'refs/heads/feature';
  return {
    sha: SHA,
    ref,
    refName: refNameOf(ref),
    eventName: 'push',
    defaultBranch: 'main',
    headRef: '',
    baseRef: '',
    repository: 'org/worker',
    serverUrl: 'https://github.com',
    runId: '42',
    actor: 'octocat',
    event: {},
    ...overrides,
  };
}

/** A hand-made platform plan, for code that only reads a few of its fields. */
export function platformPlan(platform: 'linux/amd64' | 'linux/arm64', overrides: Partial<PlatformPlan> = {}): PlatformPlan {
  const info = PLATFORMS[platform];
  const amd = info.arch === 'amd64';
  return {
    ...info,
    variant: amd ? 'cu121' : 'cpu',
    buildArgs: {},
    expect: amd ? { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' } : { torch: '2.2.2', torchaudio: '2.2.2', cuda: null },
    ref: `ghcr.io/org/worker:${SHA7}-${info.arch}`,
    ...overrides,
  };
}

/** A /v1/ping body that meets the contract with no GPU. */
export function pingBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'ok', version: '1.4.0', gpu: false, diarization: true, activeJobs: 0, maxConcurrentJobs: 2, ...overrides };
}

/** What the probe prints for a correct linux/amd64 cu121 image. */
export function probe(overrides: Partial<ProbeResult> = {}): ProbeResult {
  return { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1', machine: 'x86_64', ...overrides };
}

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;
export const DIGEST_LIST = `sha256:${'c'.repeat(64)}`;

/** A clock whose sleep advances time at once: probe timelines run instantly. `at` lists every sleep's end. */
export function fakeClock(start = 0): { now(): number; sleep(ms: number): Promise<void>; advance(ms: number): void; at: number[] } {
  let t = start;
  const at: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      at.push(t);
    },
    advance: (ms) => {
      t += ms;
    },
    at,
  };
}
