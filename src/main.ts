import * as core from '@actions/core';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Docker } from './adapters/docker';
import { buildArgv } from './build/argv';
import { builderProblem } from './build/builder';
import { checkEmulation } from './build/emulation';
import { readContext } from './context';
import { messageOf, PhaseError } from './errors';
import { readImages, type Inputs } from './inputs';
import { lintPlan } from './plan/lint';
import { createPlan, planOutputs, type Plan } from './plan/plan';
import { hostPlatform } from './plan/platforms';
import { checkGivenDigests, checkLogin, pushPlatforms, registryClient, tagManifestList, type Published } from './publish/publish';
import { planMarkdown } from './report/plan-table';
import { buildReport, summaryMarkdown, type Timings } from './report/report';
import { STATE } from './state';
import { verifyPlatform, type PlatformVerification } from './verify/verify';

/** Emulated platforms start far slower (python under QEMU); their start period is scaled by this. */
export const EMULATION_TIMEOUT_FACTOR = 4;

/** What the run learned so far; the report in `finally` is made from it whatever happened. */
interface RunState {
  plans: Plan[];
  results: Map<string, PlatformVerification>; // key: image name + platform
  timings: Map<string, Timings>;
  published: Map<string, Published>; // key: image name
  imageIds: Map<string, string>;
}

const key = (plan: Plan, platform: string) => `${plan.name}|${platform}`;

function credentials(inputs: Inputs) {
  return inputs.registryUsername && inputs.registryPassword ? { username: inputs.registryUsername, password: inputs.registryPassword } : undefined;
}

async function buildAndVerify(docker: Docker, plans: Plan[], token: string, st: RunState): Promise<void> {
  const host = hostPlatform();
  const modes = new Map<string, 'native' | 'emulated'>();
  // Every platform is checked before the first build minute is spent.
  for (const plan of plans) for (const p of plan.platforms) modes.set(p.platform, checkEmulation(p, host));

  const label = `io.ml-image-build.run=${process.env.GITHUB_RUN_ID ?? 'local'}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  core.saveState(STATE.label, label);

  const buildx = await core.group('Builder', async () => {
    core.info(`Docker engine ${await docker.serverVersion()}`);
    const has = await docker.hasBuildx();
    const problem = builderProblem(has, await docker.clientVersion());
    if (problem) throw new PhaseError('build', problem);
    core.info(has ? 'building with docker buildx build --load' : 'buildx plugin not found: building with the engine BuildKit (docker build, DOCKER_BUILDKIT=1)');
    return has;
  });

  const tmp = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'mlib-'));
  for (const plan of plans) {
    const img = plan.inputs;
    for (const p of plan.platforms) {
      const t: Timings = {};
      st.timings.set(key(plan, p.platform), t);
      const mode = modes.get(p.platform)!;
      await core.group(`Build ${plans.length > 1 ? `${plan.name} ` : ''}${p.platform} (${mode})`, async () => {
        const iidfile = path.join(tmp, `${plan.name}-${p.arch}.iid`);
        const t0 = Date.now();
        const r = await docker.exec(buildArgv(plan, p, img, buildx, iidfile), { stream: true, env: { DOCKER_BUILDKIT: '1' } });
        t.build = (Date.now() - t0) / 1000;
        if (r.code !== 0) {
          throw new PhaseError('build', `build of ${plans.length > 1 ? `${plan.name} ` : ''}${p.platform} failed (exit ${r.code}); nothing was pushed. Last lines: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        }
        st.imageIds.set(key(plan, p.platform), fs.readFileSync(iidfile, 'utf8').trim());
      });
      await core.group(`Verify ${plans.length > 1 ? `${plan.name} ` : ''}${p.platform}`, async () => {
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
            gpu: img.gpu,
            python: img.python,
            label,
          },
          core.info,
        );
        t.verify = (Date.now() - t0) / 1000;
        st.results.set(key(plan, p.platform), v);
        if (v.passed) {
          core.info(`${p.platform}: verified torch ${v.probe?.torch}, torchaudio ${v.probe?.torchaudio}, CUDA ${v.probe?.cuda ?? 'none'}, ${v.probe?.machine}`);
        } else {
          for (const f of v.findings) core.error(`${plans.length > 1 ? `${plan.name} ` : ''}${p.platform}: ${f.check}: expected ${f.expected}, got ${f.actual}`);
          if (v.ping) core.info(`ping response (HTTP ${v.ping.status}): ${JSON.stringify(v.ping.body)}`);
          core.info(`last lines of the container log:\n${v.logs || '(empty)'}`);
        }
      });
    }
  }
  const failed = [...st.results.values()].filter((v) => !v.passed);
  if (failed.length > 0) {
    const what = failed.map((v) => `${v.platform}: ${v.findings.map((f) => `${f.check} expected ${f.expected}, got ${f.actual}`).join('; ')}`);
    throw new PhaseError('verify', `verification failed, nothing was pushed. ${what.join(' / ')}`);
  }
}

async function publishAll(docker: Docker, plans: Plan[], inputs: Inputs, st: RunState): Promise<void> {
  const toPush = plans.filter((p) => p.push);
  if (toPush.length === 0) {
    core.info(`Not pushing: ${plans.map((p) => p.tagReason).join('; ')}.`);
    return;
  }
  await core.group('Publish', async () => {
    const creds = credentials(inputs);
    const work = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'mlib-push-'));
    try {
      // Credentials first for every image: a refusal must come before any upload.
      const clients = new Map(toPush.map((plan) => [plan.name, registryClient(plan, creds)]));
      for (const plan of toPush) await checkLogin(clients.get(plan.name)!, plan, creds);
      for (const plan of toPush) {
        const ids = new Map(plan.platforms.map((p) => [p.platform, st.imageIds.get(key(plan, p.platform)) ?? '']));
        const entries = await pushPlatforms(docker, clients.get(plan.name)!, plan, ids, work, core.info);
        if (inputs.mode === 'platform') {
          // One platform per job: the merge job tags; here only the digest is handed on.
          st.published.set(plan.name, { digest: entries[0].digest, tags: [], platforms: { [plan.platforms[0].platform]: entries[0].digest } });
        } else {
          st.published.set(plan.name, await tagManifestList(clients.get(plan.name)!, plan, entries, core.info));
        }
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
}

async function merge(plans: Plan[], inputs: Inputs, st: RunState): Promise<void> {
  if (plans.length !== 1) throw new PhaseError('merge', 'merge mode takes one image; run one merge step per image of the config');
  const [plan] = plans;
  await core.group('Merge', async () => {
    const creds = credentials(inputs);
    const client = registryClient(plan, creds);
    await checkLogin(client, plan, creds);
    const entries = await checkGivenDigests(client, plan, inputs.digests);
    st.published.set(plan.name, await tagManifestList(client, plan, entries, core.info));
  });
}

function setOutputs(st: RunState, inputs: Inputs): void {
  const published = [...st.published.entries()];
  core.setOutput('digest', published[0]?.[1].digest ?? '');
  const tags = published.length && inputs.mode !== 'platform' ? published.flatMap(([, p]) => p.tags) : st.plans.flatMap((plan) => plan.tags.map((t) => `${plan.image.name}:${t}`));
  core.setOutput('tags', tags.join('\n'));
  core.setOutput('images', JSON.stringify(published.map(([name, p]) => ({ name, image: st.plans.find((x) => x.name === name)?.image.name, digest: p.digest, tags: p.tags }))));
}

export async function run(): Promise<void> {
  const docker = new Docker();
  const st: RunState = { plans: [], results: new Map(), timings: new Map(), published: new Map(), imageIds: new Map() };
  let inputs: Inputs | undefined;
  try {
    const images = readImages();
    inputs = images[0].inputs;
    // Masked before anything can print them.
    if (inputs.registryPassword) core.setSecret(inputs.registryPassword);
    const token = inputs.workerToken || crypto.randomBytes(24).toString('hex');
    core.setSecret(token);

    const ctx = readContext();
    const now = new Date();
    st.plans = await core.group('Plan', async () => {
      const plans = images.map((img) => createPlan(img.inputs, ctx, now, img));
      for (const plan of plans) {
        for (const w of plan.warnings) core.warning(w);
        if (inputs!.mode !== 'merge') lintPlan(plan, core.warning);
      }
      core.info(planMarkdown(plans));
      return plans;
    });
    for (const [name, value] of Object.entries(planOutputs(st.plans))) core.setOutput(name, value);

    if (inputs.dryRun) {
      core.info('dry-run: nothing is built or pushed.');
      await core.summary.addRaw(`## ml-image-build plan (dry run)\n\n${planMarkdown(st.plans)}`).write().catch((e) => core.warning(`job summary not written: ${messageOf(e)}`));
      setOutputs(st, inputs);
      return;
    }
    if (inputs.mode === 'merge') {
      await merge(st.plans, inputs, st);
    } else {
      await buildAndVerify(docker, st.plans, token, st);
      await publishAll(docker, st.plans, inputs, st);
    }
    setOutputs(st, inputs);
  } catch (e) {
    core.setFailed(messageOf(e));
  } finally {
    if (st.plans.length > 0 && !inputs?.dryRun) await report(st);
  }
}

/** The `report` output and the job summary, from whatever the run reached. */
async function report(st: RunState): Promise<void> {
  const perPlan = st.plans.map((plan) => {
    const pick = <T>(m: Map<string, T>) => new Map(plan.platforms.flatMap((p) => (m.has(key(plan, p.platform)) ? [[p.platform, m.get(key(plan, p.platform))!] as const] : [])));
    return { plan, entries: buildReport(plan, pick(st.results), pick(st.timings), st.published.get(plan.name)) };
  });
  core.setOutput('report', JSON.stringify(perPlan.flatMap((x) => x.entries)));
  if (st.results.size === 0 && st.published.size === 0) return;
  const md = perPlan.map(({ plan, entries }) => summaryMarkdown(plan, entries, st.published.get(plan.name), plan.push)).join('\n');
  await core.summary.addRaw(md).write().catch((e) => core.warning(`job summary not written: ${messageOf(e)}`));
}
