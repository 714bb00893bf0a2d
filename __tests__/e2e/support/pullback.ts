import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseProbe, PROBE_SCRIPT, type ProbeResult } from '../../../src/verify/contract';
import { DOCKER } from './env';

/**
 * The independent check of what a run pushed: a second Docker engine with an empty image store
 * (scripts/e2e-env.sh starts it) pulls a platform image by digest, so every layer comes from the
 * registry and is checked by the engine's own pull (blob digests and the config's diff IDs),
 * then runs the torch probe in it with no network. The image is removed again afterwards.
 */
export const PULLBACK_HOST = 'unix:///run/mlib-pullback/docker.sock';

export interface PulledBack {
  probe: ProbeResult & Record<string, unknown>;
  /** What the pulling engine calls the image: its ID and architecture. */
  id: string;
  architecture: string;
  /** Layers the engine pulled (its own RootFS.Layers). */
  diffIds: string[];
}

/**
 * Asynchronous on purpose: a registry, token issuer or fault proxy the test runs in this very
 * process must go on answering while the engine pulls.
 */
export async function pullBack(
  registry: { host: string; user?: string; password?: string },
  repository: string,
  digest: string,
  platform: string,
): Promise<PulledBack> {
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-pullback-config-'));
  const docker = (args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(DOCKER, ['--config', config, '-H', PULLBACK_HOST, ...args], { maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
        e ? reject(new Error(`docker ${args[0]}: ${stderr || e.message}`)) : resolve(stdout.toString().trim()),
      );
      child.stdin?.end(input);
    });
  const ref = `${registry.host}/${repository}@${digest}`;
  try {
    if (registry.user) await docker(['login', registry.host, '-u', registry.user, '--password-stdin'], registry.password);
    await docker(['pull', '--quiet', ref]);
    const inspected = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .}}', ref])) as {
      Id: string;
      Architecture: string;
      RootFS: { Layers: string[] };
    };
    const out = await docker(['run', '--rm', '--network', 'none', '--platform', platform, '--entrypoint', 'python3', ref, '-c', PROBE_SCRIPT]);
    return { probe: parseProbe(out), id: inspected.Id, architecture: inspected.Architecture, diffIds: inspected.RootFS.Layers };
  } finally {
    await docker(['image', 'rm', '--force', ref]).catch(() => undefined);
    fs.rmSync(config, { recursive: true, force: true });
  }
}

/** Platform manifests of a pushed list, by platform. */
export function platformsOf(list: { manifests: Array<{ digest: string; platform: { os: string; architecture: string } }> }): Record<string, string> {
  return Object.fromEntries(list.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]));
}
