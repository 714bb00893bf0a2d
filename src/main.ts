import * as core from '@actions/core';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Docker } from './adapters/docker';
import type { Credentials } from './adapters/registry/auth';
import type { RegistryClient } from './adapters/registry/client';
import { policyFromEnv } from './adapters/registry/retry';
import { INDEX_POLICY, SimpleIndexClient } from './adapters/simple-index';
import { buildArgv, type SecretSource } from './builder/argv';
import { builderProblem } from './builder/builder';
import { builderRefusal } from './builder/options';
import { writeSecrets } from './builder/secrets';
import { checkEmulation } from './builder/emulation';
import { readContext } from './context';
import { messageOf, PhaseError } from './errors';
import { workspaceOf } from './files';
import { actionsInputSource, readImages, workspaceFiles, type Inputs } from './inputs';
import { lintCacheOrder, lintPlan, secretLikeBuildArgs } from './lint/lint';
import { checkPlanInputs, createPlan, planOutputs, type Plan, type PlatformPlan } from './plan/plan';
import { describeSource, resolveTorch } from './plan/preflight';
import { hostPlatform } from './plan/platforms';
import {
  checkGivenDigests,
  checkLogin,
  mountSources,
  prepareTags,
  pushPlatforms,
  registryClient,
  tagManifestList,
  type Published,
  type PublishEnv,
  type PushSummary,
} from './publish/publish';
import { availableCores } from './publish/pgzip';
import { formatBytes } from './publish/progress';
import { attachReport, type Attached } from './publish/attach';
import type { PlatformManifest } from './publish/manifest';
import { choosePushRoute } from './publish/route';
import type { TagBefore } from './publish/tag-move';
import { planMarkdown } from './report/plan-table';
import { buildReport, summaryMarkdown, type PlatformReport, type Stopped, type Timings } from './report/report';
import { ACTION_VERSION } from './version';
import { Leftovers, STATE } from './state';
import { afterPush, checkImageSize, growthTag } from './verify/size-gate';
import { publishedSizes, type PublishedSizes, type SizeReport } from './verify/size';
import { verifyPlatform, type PlatformVerification } from './verify/verify';

/** Emulated platforms start far slower (python under QEMU); their start period is scaled by this. */
export const EMULATION_TIMEOUT_FACTOR = 4;

type Phase = 'plan' | 'login' | 'build' | 'verify' | 'publish' | 'merge' | 'report';

/** What the run learned so far; the report in `finally` is made from it whatever happened. */
interface RunState {
  phase: Phase;
  plans: Plan[];
  results: Map<string, PlatformVerification>; // key: image name + platform
  timings: Map<string, Timings>;
  published: Map<string, Published>; // key: image name
  /** Platform images pushed by digest so far, also when tagging then failed. */
  pushes: Map<string, Record<string, PushSummary>>; // key: image name
  imageIds: Map<string, string>;
  /** What each image's main tag names now, for size growth (key: image name). */
  publishedSizes: Map<string, PublishedSizes | undefined>;
  /** The verification report artifact attached to each pushed platform image. */
  referrers: Map<string, Attached>;
  leftovers: Leftovers;
  buildx: boolean;
  /** The phase the run failed in and why (unset while it goes well). */
  stopped?: Stopped;
  /** The files BuildKit reads the `secrets` and `secret-files` from, for both builds of a platform. */
  secrets: SecretSource[];
}

const key = (plan: Plan, platform: string) => `${plan.name}|${platform}`;
const labelOf = (plans: Plan[], plan: Plan) => (plans.length > 1 ? `${plan.name} ` : '');

function credentials(inputs: Inputs): Credentials | undefined {
  return inputs.registryUsername && inputs.registryPassword ? { username: inputs.registryUsername, password: inputs.registryPassword } : undefined;
}

function tempDir(st: RunState, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), prefix));
  st.leftovers.addTempDir(dir);
  return dir;
}

/**
 * Cancellation as a runner does it: SIGINT, then SIGTERM a few seconds later. The first signal
 * aborts what is in flight (registry requests, waits) and stops the docker children; the run
 * then unwinds through its `finally`, which removes temp files and writes the report of what was
 * reached. The post step removes containers and local tags.
 */
class Cancellation {
  private readonly controller = new AbortController();
  private readonly onSignal = (sig: NodeJS.Signals) => {
    if (this.controller.signal.aborted) return;
    core.warning(`${sig}: the run is being cancelled; stopping docker and registry work`);
    this.controller.abort(new Error(`cancelled (${sig})`));
    Docker.stopAll();
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

function checkCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new PhaseError('cancel', 'cancelled');
}

/** Every platform is checked before the first build minute is spent (and before any login). */
function emulationModes(plans: Plan[]): Map<string, 'native' | 'emulated'> {
  const host = hostPlatform();
  const modes = new Map<string, 'native' | 'emulated'>();
  for (const plan of plans) for (const p of plan.platforms) modes.set(p.platform, checkEmulation(p, host));
  return modes;
}

/** Where a platform's log goes: straight to the job log, or into a buffer printed as one group when it ends. */
interface PlatformLog {
  info(s: string): void;
  error(s: string): void;
  /** Raw build output. */
  chunk(s: string): void;
  /** Runs `fn` inside a log group (live) or under a heading inside the platform's buffer. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

const liveLog: PlatformLog = {
  info: core.info,
  error: core.error,
  chunk: (s) => process.stdout.write(s),
  group: (title, fn) => core.group(title, fn),
};

/** A platform building beside others: its lines are kept and printed together, and the last one shows its progress. */
class BufferedLog implements PlatformLog {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  last = '';
  private partial = '';
  info(s: string): void {
    this.lines.push(s);
    this.last = s;
  }
  error(s: string): void {
    this.errors.push(s);
    this.lines.push(`error: ${s}`);
  }
  chunk(s: string): void {
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.info(l);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.info(`--- ${title}`);
    return fn();
  }
  flush(title: string): void {
    if (this.partial) this.info(this.partial);
    this.partial = '';
    core.startGroup(title);
    for (const l of this.lines) core.info(l);
    core.endGroup();
    // Annotations outside the group, so they show even when the group is folded.
    for (const e of this.errors) core.error(e);
  }
}

/**
 * How many platforms are built and verified at once: `parallel`, or by default one per two cores
 * (a BuildKit build and an emulated python each keep a core busy; fewer cores than that and
 * running them side by side only stretches both).
 */
export function parallelism(setting: number | 'auto', jobs: number, cores = availableCores()): number {
  const n = setting === 'auto' ? Math.floor(cores / 2) : setting;
  return Math.max(1, Math.min(jobs, n));
}

interface Job {
  plan: Plan;
  p: PlatformPlan;
  mode: 'native' | 'emulated';
}

async function buildAndVerifyOne(
  docker: Docker,
  plans: Plan[],
  job: Job,
  token: string,
  label: string,
  tmp: string,
  st: RunState,
  signal: AbortSignal,
  out: PlatformLog,
): Promise<void> {
  const { plan, p, mode } = job;
  const img = plan.inputs;
  const t: Timings = {};
  st.timings.set(key(plan, p.platform), t);
  await out.group(`Build ${labelOf(plans, plan)}${p.platform} (${mode})`, async () => {
    checkCancelled(signal);
    const iidfile = path.join(tmp, `${plan.name}-${p.arch}.iid`);
    const argv = buildArgv(plan, p, img, st.buildx, iidfile, st.secrets);
    st.leftovers.addLocalTag(p.ref);
    out.info(`docker ${argv.join(' ')}`);
    const t0 = Date.now();
    const r = await docker.exec(argv, { onOutput: out.chunk.bind(out), env: { DOCKER_BUILDKIT: '1' } });
    t.build = (Date.now() - t0) / 1000;
    checkCancelled(signal);
    if (r.code !== 0) {
      throw new PhaseError(
        'build',
        `build of ${labelOf(plans, plan)}${p.platform} failed (exit ${r.code}); nothing was pushed. Last lines: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    st.imageIds.set(key(plan, p.platform), fs.readFileSync(iidfile, 'utf8').trim());
  });
  st.phase = 'verify';
  await out.group(`Verify ${labelOf(plans, plan)}${p.platform}`, async () => {
    const t0 = Date.now();
    const v = await verifyPlatform(
      docker,
      p,
      {
        token,
        tokenEnv: img.tokenEnv,
        pingPort: img.pingPort,
        pingPath: img.pingPath,
        startupTimeout: img.startupTimeout * (mode === 'emulated' ? EMULATION_TIMEOUT_FACTOR : 1),
        slowdown: mode === 'emulated' ? EMULATION_TIMEOUT_FACTOR : 1,
        gpu: img.gpu,
        python: img.python,
        hygiene: img.hygiene,
        checks: img.checks,
        label,
        signal,
        tempRoot: process.env.RUNNER_TEMP || os.tmpdir(),
        onTempDir: (dir) => st.leftovers.addTempDir(dir),
      },
      (s) => out.info(s),
    );
    // Size after the container checks: the budget is a check like the others, before any push.
    const size = await checkImageSize(docker, p.ref, p.platform, img.sizeBudget, st.publishedSizes.get(plan.name), img.compressionLevel, signal);
    v.size = size.report;
    if (size.findings.length) {
      v.findings.push(...size.findings);
      v.passed = false;
    }
    out.info(`${p.platform}: ${sizeLine(size.report)}`);
    t.verify = (Date.now() - t0) / 1000;
    st.results.set(key(plan, p.platform), v);
    if (v.passed) {
      out.info(`${p.platform}: verified torch ${v.probe?.torch}, torchaudio ${v.probe?.torchaudio}, CUDA ${v.probe?.cuda ?? 'none'}, ${v.probe?.machine}`);
    } else {
      for (const f of v.findings) out.error(`${labelOf(plans, plan)}${p.platform}: ${f.check}: expected ${f.expected}, got ${f.actual}`);
      if (v.ping) out.info(`ping response (HTTP ${v.ping.status}): ${JSON.stringify(v.ping.body)}`);
      out.info(`last lines of the container log:\n${v.logs || '(empty)'}`);
    }
  });
}

async function buildAndVerify(
  docker: Docker,
  plans: Plan[],
  modes: Map<string, 'native' | 'emulated'>,
  token: string,
  st: RunState,
  signal: AbortSignal,
  setting: number | 'auto',
): Promise<void> {
  const label = `io.ml-image-build.run=${process.env.GITHUB_RUN_ID ?? 'local'}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  core.saveState(STATE.label, label);

  const jobs: Job[] = plans.flatMap((plan) => plan.platforms.map((p) => ({ plan, p, mode: modes.get(p.platform)! })));
  const width = parallelism(setting, jobs.length);
  const tmp = tempDir(st, 'mlib-');
  st.phase = 'build';
  try {
    if (width === 1) {
      for (const job of jobs) await buildAndVerifyOne(docker, plans, job, token, label, tmp, st, signal, liveLog);
    } else {
      core.info(
        `building and verifying ${jobs.length} platforms, ${width} at a time (parallel: ${setting}, ${availableCores()} cores); each platform's log is printed when it ends`,
      );
      await runSideBySide(docker, plans, jobs, width, token, label, tmp, st, signal);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const failed = [...st.results.values()].filter((v) => !v.passed);
  if (failed.length > 0) {
    const what = failed.map((v) => `${v.platform}: ${v.findings.map((f) => `${f.check} expected ${f.expected}, got ${f.actual}`).join('; ')}`);
    throw new PhaseError('verify', `verification failed, nothing was pushed. ${what.join(' / ')}`);
  }
}

/** Progress lines while platforms run side by side, every 20 s (MLIB_PROGRESS_SECONDS changes it). */
function progressEveryMs(): number {
  const s = Number(process.env.MLIB_PROGRESS_SECONDS);
  return (Number.isFinite(s) && s >= 1 ? s : 20) * 1000;
}

async function runSideBySide(
  docker: Docker,
  plans: Plan[],
  jobs: Job[],
  width: number,
  token: string,
  label: string,
  tmp: string,
  st: RunState,
  signal: AbortSignal,
): Promise<void> {
  const running = new Map<Job, { log: BufferedLog; t0: number }>();
  const ticker = setInterval(() => {
    for (const [job, r] of running) {
      core.info(`${labelOf(plans, job.plan)}${job.p.platform}: ${Math.round((Date.now() - r.t0) / 1000)}s; ${r.log.last.trim().slice(0, 160) || 'starting'}`);
    }
  }, progressEveryMs());
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    // A failed build stops new platforms from starting; those running finish and are reported.
    while (next < jobs.length && firstError === undefined) {
      const job = jobs[next++];
      const log = new BufferedLog();
      const t0 = Date.now();
      running.set(job, { log, t0 });
      try {
        await buildAndVerifyOne(docker, plans, job, token, label, tmp, st, signal, log);
      } catch (e) {
        firstError ??= e;
        log.error(messageOf(e));
      } finally {
        running.delete(job);
        log.flush(`Build and verify ${labelOf(plans, job.plan)}${job.p.platform} (${job.mode}, ${Math.round((Date.now() - t0) / 1000)}s)`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    clearInterval(ticker);
  }
  if (firstError !== undefined) throw firstError instanceof Error ? firstError : new Error(messageOf(firstError));
}

/** The registry side of the run: clients, and the credential check made before any build. */
interface Registries {
  env: PublishEnv;
  clients: Map<string, RegistryClient>; // key: image name
}

async function openRegistries(docker: Docker, plans: Plan[], inputs: Inputs, st: RunState, signal: AbortSignal): Promise<Registries> {
  // A merge job reads and writes manifests only: it needs no engine.
  const pushesImages = inputs.mode !== 'merge' && plans.some((p) => p.push);
  const store = pushesImages ? await docker.imageStore() : 'classic';
  const driver = pushesImages && st.buildx ? await docker.buildxDriver() : '';
  const route = choosePushRoute({ buildx: st.buildx, driver, store });
  const env: PublishEnv = {
    docker,
    credentials: credentials(inputs),
    policy: policyFromEnv(process.env),
    signal,
    log: core.info,
    warn: core.warning,
    store,
    route,
    level: inputs.compressionLevel,
    tempRoot: process.env.RUNNER_TEMP || os.tmpdir(),
    onTempDir: (dir) => st.leftovers.addTempDir(dir),
    knowledge: new Map(),
  };
  const clients = new Map(plans.map((plan) => [plan.name, registryClient(env, plan.image, mountSources(plan, plans, inputs.mountFrom))]));
  return { env, clients };
}

async function publishAll(plans: Plan[], inputs: Inputs, st: RunState, reg: Registries): Promise<void> {
  const toPush = plans.filter((p) => p.push);
  if (toPush.length === 0) {
    core.info(`Not pushing: ${plans.map((p) => p.tagReason).join('; ')}.`);
    return;
  }
  st.phase = 'publish';
  await core.group('Publish', async () => {
    core.info(`pushing by ${reg.env.route.via === 'buildkit' ? 'BuildKit' : 'streaming docker save'}: ${reg.env.route.reason}`);
    // Where every tag points now, before anything moves; and which layers the registry has.
    const states = new Map<string, TagBefore[]>();
    for (const plan of toPush) {
      states.set(plan.name, inputs.mode === 'platform' ? [] : await prepareTags(reg.env, reg.clients.get(plan.name)!, plan, inputs.mountFrom));
    }
    for (const plan of toPush) {
      const client = reg.clients.get(plan.name)!;
      const ids = new Map(plan.platforms.map((p) => [p.platform, st.imageIds.get(key(plan, p.platform)) ?? '']));
      const pushes: Record<string, PushSummary> = {};
      st.pushes.set(plan.name, pushes);
      const entries = await pushPlatforms(reg.env, client, plan, ids, pushes);
      await sizesAsPushed(client, plan, entries, st);
      // Before any tag moves: whoever pulls the new tags can already read what was verified.
      await attachReports(client, plan, entries, st);
      if (inputs.mode === 'platform') {
        // One platform per job: the merge job tags; here only the digest is handed on.
        st.published.set(plan.name, {
          digest: entries[0].digest,
          tags: [],
          platforms: { [plan.platforms[0].platform]: entries[0].digest },
          complete: true,
          tagReport: [],
          pushes,
        });
        continue;
      }
      checkCancelled(reg.env.signal!);
      const published = await tagManifestList(client, plan, entries, states.get(plan.name)!, pushes, core.info);
      st.published.set(plan.name, published);
      if (!published.complete) {
        throw new PhaseError('publish', `the tags of ${plan.image.name} could not all be moved (${published.error}); ${tagStory(published)}`);
      }
    }
  });
}

/** One line on a platform's size for the log. */
function sizeLine(r: SizeReport): string {
  const parts = [`${r.layers} layers`];
  if (r.uncompressed !== undefined) parts.push(`${formatBytes(r.uncompressed)} uncompressed`);
  if (r.compressed !== undefined) parts.push(`${formatBytes(r.compressed)} compressed`);
  if (r.growthPercent !== undefined) parts.push(`${r.growthPercent >= 0 ? '+' : ''}${r.growthPercent}% over ${r.published?.ref}`);
  const top = r.largestLayers[0];
  if (top) parts.push(`largest layer ${formatBytes(top.compressed ?? top.uncompressed ?? 0)}: ${top.instruction ?? '(instruction not known)'}`.slice(0, 200));
  return `size: ${parts.join(', ')}`;
}

/** The compressed size of each platform image as pushed (one manifest read each), and its growth. */
async function sizesAsPushed(client: RegistryClient, plan: Plan, entries: PlatformManifest[], st: RunState): Promise<void> {
  for (const e of entries) {
    const v = st.results.get(key(plan, `${e.os}/${e.architecture}`));
    if (!v?.size || v.size.compressed !== undefined) continue;
    const pushed = await publishedSizes(client, e.digest).catch((err) =>
      core.warning(`size of ${plan.image.name}@${e.digest} not read back: ${messageOf(err)}`),
    );
    if (pushed && pushed.single) v.size = afterPush(v.size, pushed.single);
  }
}

/**
 * Each pushed platform image gets its verification report as an OCI artifact whose subject is
 * that image (found by `oras discover`, `regctl artifact list`, or the referrers tag). The image
 * passed verification whether or not its report could be attached, so a failure here warns.
 */
async function attachReports(client: RegistryClient, plan: Plan, entries: PlatformManifest[], st: RunState): Promise<void> {
  const reports = platformReports(st, plan);
  for (const e of entries) {
    const platform = `${e.os}/${e.architecture}`;
    const report = reports.find((r) => r.platform === platform);
    if (!report) continue;
    try {
      const attached = await attachReport(
        client,
        { mediaType: e.mediaType, digest: e.digest, size: e.size },
        {
          ...report,
          digest: e.digest,
          push: undefined,
          action: { name: 'ml-image-build', version: ACTION_VERSION, ref: process.env.GITHUB_ACTION_REF || null },
        },
        {
          // The plan's time, not now: a publish step run again finds its report already listed.
          created: plan.created,
          annotations: Object.fromEntries(
            ['org.opencontainers.image.source', 'org.opencontainers.image.revision'].filter((k) => plan.labels[k]).map((k) => [k, plan.labels[k]]),
          ),
          log: core.info,
        },
      );
      st.referrers.set(key(plan, platform), attached);
    } catch (err) {
      core.warning(`${platform}: the verification report could not be attached to ${plan.image.name}@${e.digest}: ${messageOf(err)}`);
    }
  }
}

/** One sentence on where each tag points after a failed move. */
function tagStory(p: Published): string {
  return p.tagReport.map((t) => `${t.tag}: ${t.fate}${t.now ? ` (now ${t.now === p.digest ? 'the new list' : t.now})` : ' (absent)'}`).join(', ');
}

async function merge(plans: Plan[], inputs: Inputs, st: RunState, reg: Registries): Promise<void> {
  if (plans.length !== 1) throw new PhaseError('merge', 'merge mode takes one image; run one merge step per image of the config');
  const [plan] = plans;
  st.phase = 'merge';
  await core.group('Merge', async () => {
    const client = reg.clients.get(plan.name)!;
    await checkLogin(client, plan, reg.env.credentials);
    const entries = await checkGivenDigests(client, plan, inputs.digests);
    const states = await prepareTags(reg.env, client, plan, [], false);
    const published = await tagManifestList(client, plan, entries, states, {}, core.info);
    st.published.set(plan.name, published);
    if (!published.complete)
      throw new PhaseError('merge', `the tags of ${plan.image.name} could not all be moved (${published.error}); ${tagStory(published)}`);
  });
}

function setOutputs(st: RunState, inputs: Inputs): void {
  const published = [...st.published.entries()];
  core.setOutput('digest', published[0]?.[1].digest ?? '');
  const tags =
    published.length && inputs.mode !== 'platform'
      ? published.flatMap(([, p]) => p.tags)
      : st.plans.flatMap((plan) => plan.tags.map((t) => `${plan.image.name}:${t}`));
  core.setOutput('tags', tags.join('\n'));
  core.setOutput(
    'images',
    JSON.stringify(
      published.map(([name, p]) => ({
        name,
        image: st.plans.find((x) => x.name === name)?.image.name,
        digest: p.digest,
        tags: p.tags,
        complete: p.complete,
        tagReport: p.tagReport,
      })),
    ),
  );
}

export async function run(): Promise<void> {
  const docker = new Docker();
  const cancel = new Cancellation();
  const st: RunState = {
    phase: 'plan',
    plans: [],
    results: new Map(),
    timings: new Map(),
    published: new Map(),
    pushes: new Map(),
    imageIds: new Map(),
    referrers: new Map(),
    publishedSizes: new Map(),
    leftovers: new Leftovers(),
    buildx: false,
    secrets: [],
  };
  let inputs: Inputs | undefined;
  try {
    // Paths resolve inside the workspace, and files read are regular and bounded (files.ts).
    const files = workspaceFiles(workspaceOf());
    const images = readImages(actionsInputSource, files.readFile, files.checkPaths);
    inputs = images[0].inputs;
    // Masked before anything can print them.
    if (inputs.registryPassword) core.setSecret(inputs.registryPassword);
    for (const img of images) for (const s of img.inputs.build.secrets) core.setSecret(s.value);
    const token = inputs.workerToken || crypto.randomBytes(24).toString('hex');
    core.setSecret(token);

    const ctx = readContext();
    // A distributed run's later jobs get the plan job's time: the same nightly date and labels.
    const now = inputs.buildTime ?? new Date();
    st.plans = await core.group('Plan', async () => {
      for (const img of images) checkPlanInputs(img.inputs);
      // The wheel index is the truth about which wheels exist (a merge job builds nothing: the
      // table's answer is enough there). One client, so each page is read once for all images.
      const index = new SimpleIndexClient({ policy: policyFromEnv(process.env, INDEX_POLICY, 'MLIB_INDEX'), signal: cancel.signal, log: core.info });
      const plans: Plan[] = [];
      for (const img of images) {
        const torch = inputs!.mode === 'merge' ? undefined : await resolveTorch(img.inputs, index);
        for (const n of torch?.notes ?? []) core.info(images.length > 1 ? `${img.name}: ${n}` : n);
        plans.push(createPlan(img.inputs, ctx, now, img, torch));
      }
      for (const plan of plans) {
        for (const name of secretLikeBuildArgs(plan.inputs.buildArgs)) {
          core.warning(
            `${labelOf(plans, plan)}build arg ${name} looks like a secret: build args are printed in the log, stored in the plan output and kept in the image history. Pass it with \`secrets: ${name}=...\` and read it with \`RUN --mount=type=secret,id=${name}\``,
          );
        }
        core.info(`${labelOf(plans, plan)}torch wheels: ${describeSource(plan.wheelSource)}`);
        for (const w of plan.warnings) core.warning(w);
        if (inputs!.mode !== 'merge') {
          lintPlan(plan, (a) => (a.level === 'error' ? core.error : core.warning)(a.message, a.properties));
          lintCacheOrder(plan, (message, properties) => core.warning(message, properties));
        }
      }
      core.info(planMarkdown(plans));
      return plans;
    });
    for (const [name, value] of Object.entries(planOutputs(st.plans))) core.setOutput(name, value);

    if (inputs.dryRun) {
      core.info('dry-run: nothing is built or pushed.');
      await core.summary
        .addRaw(`## ml-image-build plan (dry run)\n\n${planMarkdown(st.plans)}`)
        .write()
        .catch((e) => core.warning(`job summary not written: ${messageOf(e)}`));
      setOutputs(st, inputs);
      return;
    }

    const modes = inputs.mode !== 'merge' ? emulationModes(st.plans) : new Map<string, 'native' | 'emulated'>();
    if (inputs.mode !== 'merge') {
      st.buildx = await core.group('Builder', async () => {
        core.info(`Docker engine ${await docker.serverVersion()}`);
        const has = await docker.hasBuildx();
        const problem = builderProblem(has, await docker.clientVersion());
        if (problem) throw new PhaseError('build', problem);
        core.info(
          has ? 'building with docker buildx build --load' : 'buildx plugin not found: building with the engine BuildKit (docker build, DOCKER_BUILDKIT=1)',
        );
        // Only a cache export depends on the driver; `buildx inspect` is asked only then.
        const driver = has && images.some((img) => img.inputs.build.cacheTo.some((c) => c.type !== 'inline')) ? await docker.buildxDriver() : '';
        for (const img of images) {
          const refusal = builderRefusal(img.inputs.build, has, driver);
          if (refusal) throw refusal;
        }
        return has;
      });
    }
    const reg = await openRegistries(docker, st.plans, inputs, st, cancel.signal);
    if (inputs.mode === 'merge') {
      await merge(st.plans, inputs, st, reg);
    } else {
      // A refused login must come before the first build minute is spent.
      const pushing = st.plans.filter((p) => p.push);
      if (pushing.length) {
        st.phase = 'login';
        await core.group('Registry login', async () => {
          for (const plan of pushing) {
            await checkLogin(reg.clients.get(plan.name)!, plan, reg.env.credentials);
            core.info(
              `${plan.image.registry}: ${reg.env.credentials ? `'${reg.env.credentials.username}'` : 'anonymous'} may push to ${plan.image.repository}`,
            );
            const tag = growthTag(plan.tags);
            if (tag) {
              // Manifests only, no blob: what the release's main tag names now, to measure growth against.
              const now = await publishedSizes(reg.clients.get(plan.name)!, tag).catch((e) =>
                core.warning(`the image ${plan.image.name}:${tag} names now could not be read for size growth: ${messageOf(e)}`),
              );
              st.publishedSizes.set(plan.name, now || undefined);
              if (now) core.info(`size growth is measured against ${now.ref} (${now.digest})`);
            }
          }
        });
      }
      // Secrets are action inputs only (never ml-image.yml), so every image has the same ones.
      st.secrets = writeSecrets(inputs.build, process.env.RUNNER_TEMP || os.tmpdir(), (dir) => st.leftovers.addTempDir(dir));
      reg.env.secrets = st.secrets;
      await buildAndVerify(docker, st.plans, modes, token, st, cancel.signal, inputs.parallel);
      await publishAll(st.plans, inputs, st, reg);
    }
    setOutputs(st, inputs);
  } catch (e) {
    st.stopped = { phase: st.phase, message: messageOf(e), cancelled: cancel.signal.aborted };
    if (cancel.signal.aborted) {
      core.setFailed(`the run was cancelled during ${st.phase}${messageOf(e) && !/^cancelled$/.test(messageOf(e)) ? ` (${messageOf(e)})` : ''}`);
    } else {
      core.setFailed(messageOf(e));
    }
    if (inputs) setOutputs(st, inputs);
  } finally {
    for (const dir of st.leftovers.tempDirs) fs.rmSync(dir, { recursive: true, force: true });
    if (st.plans.length > 0 && !inputs?.dryRun) await report(st);
    cancel.dispose();
  }
}

/** The report entries of one image's platforms, from whatever the run reached. */
function platformReports(st: RunState, plan: Plan): PlatformReport[] {
  const pick = <T>(m: Map<string, T>) =>
    new Map(plan.platforms.flatMap((p) => (m.has(key(plan, p.platform)) ? [[p.platform, m.get(key(plan, p.platform))!] as const] : [])));
  return buildReport(plan, pick(st.results), pick(st.timings), st.published.get(plan.name), st.pushes.get(plan.name), pick(st.imageIds), pick(st.referrers));
}

/** The `report` output and the job summary, from whatever the run reached. */
async function report(st: RunState): Promise<void> {
  const perPlan = st.plans.map((plan) => ({ plan, entries: platformReports(st, plan) }));
  core.setOutput('report', JSON.stringify(perPlan.flatMap((x) => x.entries)));
  if (st.results.size === 0 && st.published.size === 0) return;
  const md = perPlan
    .map(({ plan, entries }) => summaryMarkdown(plan, entries, st.published.get(plan.name), plan.push, st.pushes.get(plan.name), st.stopped))
    .join('\n');
  await core.summary
    .addRaw(md)
    .write()
    .catch((e) => core.warning(`job summary not written: ${messageOf(e)}`));
}
