import * as crypto from 'crypto';
import type { Docker } from '../adapters/docker';
import type { PlatformPlan } from '../plan/plan';
import { checkPingBody, compareProbe, parseProbe, PROBE_SCRIPT, type Finding, type ProbeResult } from './contract';

export interface VerifyOptions {
  token: string;
  tokenEnv: string;
  pingPort: number;
  pingPath: string;
  /** Seconds; already scaled for emulation by the caller. */
  startupTimeout: number;
  gpu: boolean;
  python: string;
  /** Label put on every container so the post step can remove leftovers after a cancel. */
  label: string;
  /** A cancelled run stops waiting at once (the container is still removed). */
  signal?: AbortSignal;
}

export interface PlatformVerification {
  platform: string;
  passed: boolean;
  findings: Finding[];
  ping?: { status: number; body: unknown };
  probe?: ProbeResult;
  readySeconds?: number;
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
 * Starts the image the way the worker procedure does (token in the environment, port published
 * on 127.0.0.1 only), waits for the ping endpoint, checks its contract and auth, then runs the
 * version probe in the running container. The container is removed whatever happens.
 */
export async function verifyPlatform(docker: Docker, p: PlatformPlan, opts: VerifyOptions, log: (s: string) => void): Promise<PlatformVerification> {
  const name = `mlib-${p.arch}-${crypto.randomBytes(4).toString('hex')}`;
  const result: PlatformVerification = { platform: p.platform, passed: false, findings: [] };
  const fail = (check: string, expected: string, actual: string) => result.findings.push({ check, expected, actual });
  try {
    const runArgs = ['run', '-d', '--name', name, '--label', opts.label, '--platform', p.platform];
    // `-e NAME` without a value makes docker read it from its own environment: the token stays out of argv.
    runArgs.push('-e', opts.tokenEnv, '-p', `127.0.0.1::${opts.pingPort}`);
    if (opts.gpu) runArgs.push('--gpus', 'all');
    runArgs.push(p.ref);
    const started = await docker.exec(runArgs, { env: { [opts.tokenEnv]: opts.token } });
    if (started.code !== 0) {
      fail('container start', 'docker run succeeds', started.stderr.trim());
      return result;
    }
    const t0 = Date.now();
    // A container that dies at once has no published port any more: report how it ended.
    const mapped = await docker.exec(['port', name, `${opts.pingPort}/tcp`]);
    const port = mapped.code === 0 ? mapped.stdout.trim().split('\n')[0].split(':').pop() : undefined;
    const url = `http://127.0.0.1:${port}${opts.pingPath}`;
    if (port) log(`${p.platform}: container ${name} started; polling GET ${opts.pingPath} on 127.0.0.1:${port} for up to ${opts.startupTimeout}s`);

    const deadline = port ? t0 + opts.startupTimeout * 1000 : Infinity;
    const auth = { Authorization: `Bearer ${opts.token}` };
    let answer: HttpAnswer | undefined;
    while (Date.now() < deadline) {
      if (opts.signal?.aborted) throw new Error(`${p.platform}: verification cancelled`);
      const state = await docker.containerState(name);
      if (state.status !== 'running' || !port) {
        fail('startup', `server answering GET ${opts.pingPath}`, `container ${state.status || 'vanished'} with exit code ${state.exitCode} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        break;
      }
      answer = await get(url, auth);
      // 503 is how a worker says "still loading models"; anything else is its answer.
      if (answer && answer.status !== 503) break;
      answer = undefined;
      await sleep(500);
    }
    if (!answer) {
      if (result.findings.length === 0) fail('startup', `answer from GET ${opts.pingPath} within ${opts.startupTimeout}s`, 'no answer');
    } else {
      result.readySeconds = (Date.now() - t0) / 1000;
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
        const a = await get(url, headers);
        if (!a || (a.status !== 401 && a.status !== 403)) {
          fail('auth', `401 or 403 ${what}`, a ? `${a.status}` : 'no answer');
        }
      }
    }

    if (opts.signal?.aborted) throw new Error(`${p.platform}: verification cancelled`);
    const state = await docker.containerState(name);
    const probeRun =
      state.status === 'running'
        ? await docker.exec(['exec', name, opts.python, '-c', PROBE_SCRIPT])
        : await docker.exec(['run', '--rm', '--label', opts.label, '--platform', p.platform, '--entrypoint', opts.python, p.ref, '-c', PROBE_SCRIPT]);
    try {
      result.probe = parseProbe(probeRun.stdout);
      result.findings.push(...compareProbe(p.expect, p.machine, result.probe));
    } catch (e) {
      fail('probe', 'torch/torchaudio versions printed by the probe', `${(e as Error).message} ${probeRun.stderr.trim().slice(-500)}`);
    }
  } finally {
    if (result.findings.length > 0) result.logs = await docker.logs(name);
    await docker.removeContainer(name);
  }
  result.passed = result.findings.length === 0;
  return result;
}
