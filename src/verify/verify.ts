import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Docker } from '../adapters/docker';
import type { PlatformPlan } from '../plan/plan';
import { checkPingBody, compareProbe, parseProbe, PROBE_SCRIPT, type Finding, type ProbeResult } from './contract';
import type { SizeReport } from './size';
import { realClock, runCheck, type CheckAdapters, type DeclaredCheck } from './checks';
import { compareGpu, GPU_PROBE_FLAG, gpuRunProblem, parseGpuProbe, type GpuProbe } from './gpu';
import { configFindings, HYGIENE_SCRIPT, modelCachePath, OFFLINE_ENV, parseHygiene, parseMemory, probeFindings, type HygieneOptions } from './hygiene';

export interface VerifyOptions {
  token: string;
  tokenEnv: string;
  pingPort: number;
  pingPath: string;
  /** Seconds; already scaled for emulation by the caller. */
  startupTimeout: number;
  /** How much slower than native this platform runs (1 native, more under QEMU): scales health timeouts. */
  slowdown: number;
  gpu: boolean;
  python: string;
  hygiene: HygieneOptions;
  /** The user's own exec and HTTP checks. */
  checks: DeclaredCheck[];
  /** Label put on every container, volume and network so the post step can remove leftovers after a cancel. */
  label: string;
  /** A cancelled run stops waiting at once (the container is still removed). */
  signal?: AbortSignal;
  /** Where the token's env file is made for the moment `docker run` reads it (RUNNER_TEMP). */
  tempRoot: string;
  /** Told of every temporary directory made, before anything is written there (the post step removes what a cancel left). */
  onTempDir?: (dir: string) => void;
}

/** What the hygiene checks saw, for the report. */
export interface HygieneReport {
  user: string;
  uid?: number;
  /** Where an empty volume was mounted, and whether the worker's user could write there. */
  modelCache?: string;
  cacheWritable?: boolean;
  /** Seconds from start to docker's `healthy`; undefined when not checked. */
  healthySeconds?: number;
  /** Started with no route beyond the runner and the offline variables set. */
  offline: boolean;
  memoryLimit?: number;
  /** Most memory the container used while verified (from its cgroup), when the kernel tells. */
  peakMemory?: number;
}

export interface PlatformVerification {
  platform: string;
  passed: boolean;
  findings: Finding[];
  ping?: { status: number; body: unknown };
  probe?: ProbeResult;
  readySeconds?: number;
  hygiene?: HygieneReport;
  /** The user's checks: each one's outcome and attempts. */
  checks?: { name: string; passed: boolean; attempts: number }[];
  /** Sizes, largest layers and growth, against the budget. */
  size?: SizeReport;
  /** What the GPU lane saw (gpu: true on a CUDA platform). */
  gpu?: GpuProbe;
  logs?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface HttpAnswer {
  status: number;
  text: string;
}

async function get(url: string, headers: Record<string, string>): Promise<HttpAnswer | undefined> {
  try {
    const r = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    return { status: r.status, text: await r.text() };
  } catch {
    return undefined; // not listening yet, reset, or timed out: all mean "not ready"
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * How a declared check reaches the container: exec inside it as the image's user, HTTP at the
 * address verification uses. Under emulation every step is slower, so the timeouts are scaled.
 */
function checkAdapters(docker: Docker, c: Started, opts: VerifyOptions): CheckAdapters {
  return {
    async exec(argv, timeoutMs) {
      const r = await docker.exec(['exec', c.name, ...argv], { timeoutMs: timeoutMs * opts.slowdown });
      return { ...r, ...(r.code === 124 && /stopped after/.test(r.stderr) ? { timedOut: true } : {}) };
    },
    async http(method, urlPath, headers, body, timeoutMs) {
      try {
        const r = await fetch(c.base + urlPath, { method, headers, body, signal: AbortSignal.timeout(timeoutMs * opts.slowdown) });
        return { status: r.status, body: await r.text() };
      } catch (e) {
        return { error: (e as Error).message, timedOut: (e as Error).name === 'TimeoutError' };
      }
    },
  };
}

/** A probe that has not printed after this long (a hung CUDA init) is stopped and reported. */
const PROBE_TIMEOUT_S = 120;

/** Health checks run this often while verified (docker run --health-interval); the image's own interval is for production. */
const HEALTH_INTERVAL_S = 2;

interface Started {
  name: string;
  /** Base URL of the worker, '' when the container ended before it could be reached. */
  base: string;
  t0: number;
}

interface Answer {
  answer?: HttpAnswer;
  findings: Finding[];
}

/**
 * Starts the image the way the worker procedure does (token in the environment, port reachable
 * from the runner only), with the hygiene conditions on: no route beyond the runner and the
 * offline variables set, an empty volume over the model cache, a memory limit. Waits for the ping
 * endpoint, checks its contract and auth, the health check, the cache volume, then runs the version
 * probe in the running container. Every container, volume and network is removed whatever happens.
 */
export async function verifyPlatform(docker: Docker, p: PlatformPlan, opts: VerifyOptions, log: (s: string) => void): Promise<PlatformVerification> {
  const id = crypto.randomBytes(4).toString('hex');
  const result: PlatformVerification = { platform: p.platform, passed: false, findings: [] };
  const fail = (check: string, expected: string, actual: string) => result.findings.push({ check, expected, actual });
  const containers: string[] = [];
  const cleanup: string[][] = [];
  const h = opts.hygiene;
  const memory = parseMemory(h.memory);
  const cancelled = () => {
    if (opts.signal?.aborted) throw new Error(`${p.platform}: verification cancelled`);
  };
  try {
    const cfg = await docker.imageConfig(p.ref);
    result.findings.push(...configFindings(cfg, h));
    const cache = modelCachePath(h.modelCache, cfg.env);
    const hc = h.healthcheck !== 'off' ? cfg.healthcheck : undefined;
    result.hygiene = {
      user: cfg.user || 'root',
      offline: h.offline,
      ...(memory ? { memoryLimit: memory.bytes } : {}),
      ...(cache ? { modelCache: cache } : {}),
    };

    // Docker's internal networks have no route beyond the host: no internet, no DNS. Ports cannot
    // be published from them, so the runner reaches the worker at its address on that network.
    let network: string | undefined;
    if (h.offline) {
      network = `mlib-offline-${id}`;
      await docker.ok(['network', 'create', '--internal', '--label', opts.label, network]);
      cleanup.push(['network', 'rm', network]);
    }
    // A new named volume copies the owner of the directory it is mounted over, as compose and
    // Kubernetes' fsGroup-less volumes do: a root-owned or missing directory gives a root-owned cache.
    let volume: string | undefined;
    if (cache) {
      volume = `mlib-cache-${id}`;
      await docker.ok(['volume', 'create', '--label', opts.label, volume]);
      cleanup.unshift(['volume', 'rm', '-f', volume]);
    }

    // `primary`: the container verified; the other is only the online start that tells why an offline one failed.
    const start = async (name: string, primary: boolean): Promise<Started | Finding> => {
      const offline = primary && h.offline;
      // The token reaches the container through an env file that only this user can read, there only
      // while `docker run` reads it: never in argv, and never in the docker CLI's own environment
      // (where a name such as DOCKER_HOST would change what docker itself does).
      const envDir = fs.mkdtempSync(path.join(opts.tempRoot, 'mlib-env-'));
      opts.onTempDir?.(envDir);
      const envFile = path.join(envDir, 'token.env');
      const runArgs = ['run', '-d', '--name', name, '--label', opts.label, '--platform', p.platform, '--env-file', envFile];
      if (offline && network) {
        runArgs.push('--network', network);
        for (const e of OFFLINE_ENV) runArgs.push('-e', e);
      } else {
        runArgs.push('-p', `127.0.0.1::${opts.pingPort}`);
      }
      if (volume && primary) runArgs.push('-v', `${volume}:${cache}`);
      // Swap as large as the limit: no swap, so the limit is what the worker really has.
      if (memory) runArgs.push('--memory', memory.text, '--memory-swap', memory.text);
      if (hc) {
        const timeout = Math.ceil((hc.timeoutS || 30) * opts.slowdown);
        runArgs.push('--health-interval', `${HEALTH_INTERVAL_S}s`, '--health-timeout', `${timeout}s`);
      }
      if (opts.gpu) runArgs.push('--gpus', 'all');
      runArgs.push(p.ref);
      containers.push(name);
      let started;
      try {
        fs.writeFileSync(envFile, `${opts.tokenEnv}=${opts.token}\n`, { mode: 0o600, flag: 'wx' });
        started = await docker.exec(runArgs);
      } finally {
        fs.rmSync(envDir, { recursive: true, force: true });
      }
      if (started.code !== 0) {
        const gpuProblem = opts.gpu ? gpuRunProblem(started.stderr) : undefined;
        if (gpuProblem) return { check: 'gpu runtime', expected: 'docker run --gpus all succeeds', actual: gpuProblem };
        return { check: 'container start', expected: 'docker run succeeds', actual: started.stderr.trim() };
      }
      const t0 = Date.now();
      let base = '';
      if (offline && network) {
        const ip = (await docker.inspectContainer(name))?.ips[network];
        if (ip) base = `http://${ip}:${opts.pingPort}`;
      } else {
        // A container that dies at once has no published port any more: report how it ended.
        const mapped = await docker.exec(['port', name, `${opts.pingPort}/tcp`]);
        const port = mapped.code === 0 ? mapped.stdout.trim().split('\n')[0].split(':').pop() : undefined;
        if (port) base = `http://127.0.0.1:${port}`;
      }
      if (base)
        log(
          `${p.platform}: container ${name} started${offline && network ? ' offline' : ''}; polling GET ${opts.pingPath} on ${base.slice(7)} for up to ${opts.startupTimeout}s`,
        );
      return { name, base, t0 };
    };

    const auth = { Authorization: `Bearer ${opts.token}` };
    const waitForPing = async (c: Started, offline: boolean): Promise<Answer> => {
      const deadline = c.t0 + opts.startupTimeout * 1000;
      const how = offline && network ? ` offline (no network, ${OFFLINE_ENV.join(' ')})` : '';
      while (Date.now() < deadline) {
        cancelled();
        const state = await docker.inspectContainer(c.name);
        const took = ((Date.now() - c.t0) / 1000).toFixed(1);
        if (state?.oomKilled && memory) {
          return {
            findings: [
              {
                check: 'memory',
                expected: `the worker starts and answers under a ${h.memory} limit`,
                actual: `killed by the kernel's out-of-memory killer after ${took}s`,
              },
            ],
          };
        }
        if (!state || state.status !== 'running' || !c.base) {
          return {
            findings: [
              {
                check: 'startup',
                expected: `server answering GET ${opts.pingPath}${how}`,
                actual: `container ${state?.status || 'vanished'} with exit code ${state?.exitCode ?? -1} after ${took}s`,
              },
            ],
          };
        }
        const answer = await get(c.base + opts.pingPath, auth);
        // 503 is how a worker says "still loading models"; anything else is its answer.
        if (answer && answer.status !== 503) return { answer, findings: [] };
        await sleep(500);
      }
      return { findings: [{ check: 'startup', expected: `answer from GET ${opts.pingPath} within ${opts.startupTimeout}s${how}`, actual: 'no answer' }] };
    };

    const first = await start(`mlib-${p.arch}-${id}`, true);
    if (!('name' in first)) {
      result.findings.push(first);
      return result;
    }
    const c = first;
    const { answer, findings } = await waitForPing(c, h.offline);
    if (!answer) {
      result.logs = await docker.logs(c.name);
      // Offline is the first suspect: does the same image answer with the network on?
      if (h.offline && findings[0]?.check === 'startup') {
        cancelled();
        log(`${p.platform}: no answer offline; starting it once more with the network on to tell why`);
        const again = await start(`mlib-${p.arch}-${id}-online`, false);
        if ('name' in again && (await waitForPing(again, false)).answer) {
          findings[0] = {
            check: 'offline start',
            expected: `answer from GET ${opts.pingPath} with no network and ${OFFLINE_ENV.join(' ')}`,
            actual: `${findings[0].actual} offline, but it answers with the network on: the worker reaches out at start (a model download?); bake the model into the image or its cache`,
          };
        }
      }
      result.findings.push(...findings);
    } else {
      result.readySeconds = (Date.now() - c.t0) / 1000;
      const body = parseBody(answer.text);
      result.ping = { status: answer.status, body };
      if (answer.status !== 200) {
        fail('ping HTTP status', '200', `${answer.status} with body ${answer.text.trim().slice(0, 500) || '(empty)'}`);
      } else {
        result.findings.push(...checkPingBody(body, opts.gpu && p.expect.cuda !== null));
      }
      for (const [what, headers] of [
        ['without a token', {}],
        ['with a wrong token', { Authorization: `Bearer wrong-${crypto.randomBytes(8).toString('hex')}` }],
      ] as const) {
        const a = await get(c.base + opts.pingPath, headers);
        if (!a || (a.status !== 401 && a.status !== 403)) {
          fail('auth', `401 or 403 ${what}`, a ? `${a.status}` : 'no answer');
        }
      }
      if (hc) {
        // Docker's own verdict, with the image's command and start period (scaled under emulation).
        const limit = Math.max(hc.startPeriodS * opts.slowdown, opts.startupTimeout) + HEALTH_INTERVAL_S + (hc.timeoutS || 30) * opts.slowdown;
        let state = await docker.inspectContainer(c.name);
        while (state?.status === 'running' && state.health === 'starting' && Date.now() - c.t0 < limit * 1000) {
          cancelled();
          await sleep(500);
          state = await docker.inspectContainer(c.name);
        }
        if (state?.health === 'healthy') {
          result.hygiene.healthySeconds = (Date.now() - c.t0) / 1000;
        } else {
          fail(
            'healthcheck',
            `docker reports healthy within ${Math.round(limit)}s (HEALTHCHECK ${hc.test.slice(1).join(' ')})`,
            `${state?.health ?? 'container gone'} after ${((Date.now() - c.t0) / 1000).toFixed(1)}s${state?.lastHealthOutput ? `; last check ${state.lastHealthOutput.slice(0, 300)}` : ''}`,
          );
        }
      }
      cancelled();
      const hyg = await docker.exec(['exec', c.name, opts.python, '-c', HYGIENE_SCRIPT, cache ?? ''], { timeoutMs: PROBE_TIMEOUT_S * 1000 * opts.slowdown });
      try {
        const probe = parseHygiene(hyg.stdout);
        Object.assign(result.hygiene, {
          uid: probe.uid,
          ...(cache ? { cacheWritable: probe.cacheWritable } : {}),
          ...(probe.peakMemory ? { peakMemory: probe.peakMemory } : {}),
        });
        result.findings.push(...probeFindings(probe, h, cache, cfg.user));
      } catch (e) {
        fail('hygiene probe', 'uid and cache write test printed', `${(e as Error).message} ${hyg.stderr.trim().slice(-300)}`);
      }
    }

    if (answer && opts.checks.length) {
      result.checks = [];
      for (const check of opts.checks) {
        cancelled();
        const run = await runCheck(check, checkAdapters(docker, c, opts), realClock, { token: opts.token, startedAt: c.t0, signal: opts.signal });
        result.checks.push({ name: check.name, passed: run.passed, attempts: run.attempts });
        if (run.finding) result.findings.push(run.finding);
        log(`${p.platform}: check '${check.name}' ${run.passed ? 'passed' : 'failed'} after ${run.attempts} attempt(s)`);
      }
    }

    cancelled();
    const state = await docker.inspectContainer(c.name);
    if (state?.oomKilled && memory && !result.findings.some((f) => f.check === 'memory')) {
      fail('memory', `the worker stays under a ${h.memory} limit while verified`, "killed by the kernel's out-of-memory killer");
    }
    // The GPU lane runs on CUDA platforms only: a CPU variant has nothing to find on a GPU.
    const gpuLane = opts.gpu && p.expect.cuda !== null;
    const probeArgs = [opts.python, '-c', PROBE_SCRIPT, ...(gpuLane ? [GPU_PROBE_FLAG] : [])];
    const probeRun =
      state?.status === 'running'
        ? await docker.exec(['exec', c.name, ...probeArgs], { timeoutMs: PROBE_TIMEOUT_S * 1000 * opts.slowdown })
        : await docker.exec(
            [
              'run',
              '--rm',
              '--label',
              opts.label,
              '--platform',
              p.platform,
              '--network',
              'none',
              ...(gpuLane ? ['--gpus', 'all'] : []),
              '--entrypoint',
              probeArgs[0],
              p.ref,
              ...probeArgs.slice(1),
            ],
            {
              timeoutMs: PROBE_TIMEOUT_S * 1000 * opts.slowdown,
            },
          );
    try {
      result.probe = parseProbe(probeRun.stdout);
      result.findings.push(...compareProbe(p.expect, p.machine, result.probe));
      if (gpuLane) {
        result.gpu = parseGpuProbe(result.probe);
        result.findings.push(...compareGpu(result.gpu));
      }
    } catch (e) {
      fail('probe', 'torch/torchaudio versions printed by the probe', `${(e as Error).message} ${probeRun.stderr.trim().slice(-500)}`);
    }
  } finally {
    if (result.findings.length > 0 && !result.logs && containers.length) result.logs = await docker.logs(containers[0]);
    for (const name of containers) await docker.removeContainer(name);
    for (const args of cleanup) await docker.exec(args);
  }
  result.passed = result.findings.length === 0;
  return result;
}
