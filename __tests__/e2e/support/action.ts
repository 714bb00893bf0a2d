import { execFileSync } from 'child_process';
import { ACTION_PATH, DOCKER, RUN_LABEL } from './env';

// The runner harness is shared with the demo (scripts/local-runner.js).

const { runAction } = require('../../../scripts/local-runner.js') as {
  runAction: (o: {
    inputs: Record<string, string>;
    github?: Record<string, string>;
    event?: object;
    workspace?: string;
    extraEnv?: Record<string, string>;
    echo?: boolean;
    cancelWhen?: string;
    cancelDelayMs?: number;
    timeoutMs?: number;
  }) => Promise<ActionRun>;
};

export interface ActionRun {
  code: number;
  cancelled: boolean;
  /** The main step was killed after `timeoutMs` (it hung). */
  timedOut: boolean;
  output: string;
  postCode: number;
  postOutput: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  seconds: number;
  /** Entries left in RUNNER_TEMP after the main step, and after the post step. */
  runnerTempAfterMain: string[];
  runnerTempAfterPost: string[];
}

/** Runs dist/ as a runner would, with docker resolving to Debian's BuildKit-capable client. */
export async function runDist(
  inputs: Record<string, string>,
  opts: {
    github?: Record<string, string>;
    event?: object;
    workspace?: string;
    cancelWhen?: string;
    cancelDelayMs?: number;
    timeoutMs?: number;
    env?: Record<string, string>;
  } = {},
): Promise<ActionRun> {
  const t0 = Date.now();
  const { env, ...rest } = opts;
  const r = await runAction({ inputs, ...rest, extraEnv: { ...env, PATH: ACTION_PATH }, echo: process.env.MLIB_E2E_ECHO === '1' });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

/** Containers, volumes and networks carrying the action's run label: must be none after every case. */
export function leftoverContainers(): string[] {
  const list = (what: string, args: string[]) =>
    execFileSync(DOCKER, [...args, '--filter', `label=${RUN_LABEL}`])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((id) => `${what} ${id}`);
  return [...list('container', ['ps', '-aq']), ...list('volume', ['volume', 'ls', '-q']), ...list('network', ['network', 'ls', '-q'])];
}

/**
 * A secret may appear in raw stdout only inside `::add-mask::` commands, which the runner consumes
 * to mask it everywhere else. Anywhere else it would reach the log.
 */
export function leaks(output: string, secret: string): string[] {
  return output.split('\n').filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'));
}

/** Local tags the action made for an image (`IMAGE:<tag>-<arch>-run<id>-<attempt>-<pid>`): none may outlive the post step. */
export function runLocalTags(image: string): string[] {
  return execFileSync(DOCKER, ['images', '--format', '{{.Repository}}:{{.Tag}}', image])
    .toString()
    .split('\n')
    .filter((t) => /-run[^-]+-\d+-\d+$/.test(t));
}
