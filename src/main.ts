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
import { readInputs } from './inputs';
import { createPlan, type Plan } from './plan/plan';
import { hostPlatform } from './plan/platforms';
import { login, publish, type Published } from './publish/publish';
import { buildReport, summaryMarkdown, type Timings } from './report/report';
import { STATE } from './state';
import { verifyPlatform, type PlatformVerification } from './verify/verify';

/** Emulated platforms start far slower (python under QEMU); their start period is scaled by this. */
export const EMULATION_TIMEOUT_FACTOR = 4;


function describePlan(plan: Plan): void {
  core.info(`image: ${plan.image.name} (registry ${plan.image.registry})`);
  core.info(`tags: ${plan.tags.join(', ')}`);
  for (const p of plan.platforms) {
    core.info(`${p.platform}: variant ${p.variant}, expect torch ${p.expect.torch}, torchaudio ${p.expect.torchaudio}, CUDA ${p.expect.cuda ?? 'none'}`);
    for (const [k, v] of Object.entries(p.buildArgs)) core.info(`  --build-arg ${k}=${v}`);
  }
}

export async function run(): Promise<void> {
  const docker = new Docker();
  const results = new Map<string, PlatformVerification>();
  const timings = new Map<string, Timings>();
  let plan: Plan | undefined;
  let published: Published | undefined;
  let push = false;
  try {
    const inputs = readInputs();
    push = inputs.push;
    // Masked before anything can print them.
    if (inputs.registryPassword) core.setSecret(inputs.registryPassword);
    const token = inputs.workerToken || crypto.randomBytes(24).toString('hex');
    core.setSecret(token);

    plan = await core.group('Plan', async () => {
      const p = createPlan(inputs, readContext(), new Date());
      describePlan(p);
      return p;
    });
    const host = hostPlatform();
    const modes = new Map(plan.platforms.map((p) => [p.platform, checkEmulation(p, host)]));

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
    for (const p of plan.platforms) {
      const t: Timings = {};
      timings.set(p.platform, t);
      await core.group(`Build ${p.platform} (${modes.get(p.platform)})`, async () => {
        const t0 = Date.now();
        const r = await docker.exec(buildArgv(plan!, p, inputs, buildx, path.join(tmp, `${p.arch}.iid`)), { stream: true, env: { DOCKER_BUILDKIT: '1' } });
        t.build = (Date.now() - t0) / 1000;
        if (r.code !== 0) {
          throw new PhaseError('build', `build of ${p.platform} failed (exit ${r.code}); nothing was pushed. Last lines: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        }
      });
      await core.group(`Verify ${p.platform}`, async () => {
        const t0 = Date.now();
        const v = await verifyPlatform(
          docker,
          p,
          {
            token,
            tokenEnv: inputs.tokenEnv,
            pingPort: inputs.pingPort,
            pingPath: inputs.pingPath,
            startupTimeout: inputs.startupTimeout * (modes.get(p.platform) === 'emulated' ? EMULATION_TIMEOUT_FACTOR : 1),
            gpu: inputs.gpu,
            python: inputs.python,
            label,
          },
          core.info,
        );
        t.verify = (Date.now() - t0) / 1000;
        results.set(p.platform, v);
        if (v.passed) {
          core.info(`${p.platform}: verified torch ${v.probe?.torch}, torchaudio ${v.probe?.torchaudio}, CUDA ${v.probe?.cuda ?? 'none'}, ${v.probe?.machine}`);
        } else {
          for (const f of v.findings) core.error(`${p.platform}: ${f.check}: expected ${f.expected}, got ${f.actual}`);
          if (v.ping) core.info(`ping response (HTTP ${v.ping.status}): ${JSON.stringify(v.ping.body)}`);
          core.info(`last lines of the container log:\n${v.logs || '(empty)'}`);
        }
      });
    }

    const failed = [...results.values()].filter((v) => !v.passed);
    if (failed.length > 0) {
      const what = failed.map((v) => `${v.platform}: ${v.findings.map((f) => `${f.check} expected ${f.expected}, got ${f.actual}`).join('; ')}`);
      throw new PhaseError('verify', `verification failed, nothing was pushed. ${what.join(' / ')}`);
    }

    if (inputs.push) {
      published = await core.group('Publish', async () => {
        const creds = inputs.registryUsername && inputs.registryPassword ? { username: inputs.registryUsername, password: inputs.registryPassword } : undefined;
        if (creds) {
          await login(docker, plan!.image.registry, creds);
          core.saveState(STATE.registry, plan!.image.registry);
        }
        return publish(docker, plan!, creds, core.info);
      });
      core.setOutput('digest', published.digest);
    } else {
      core.info('push is false: verified images stay local.');
    }
    core.setOutput('tags', (published?.tags ?? plan.tags.map((t) => `${plan!.image.name}:${t}`)).join('\n'));
  } catch (e) {
    core.setFailed(messageOf(e));
  } finally {
    if (plan) {
      const report = buildReport(plan, results, timings, published);
      core.setOutput('report', JSON.stringify(report));
      if (results.size > 0) await core.summary.addRaw(summaryMarkdown(plan, report, published, push)).write().catch((e) => core.warning(`job summary not written: ${messageOf(e)}`));
    }
  }
}
