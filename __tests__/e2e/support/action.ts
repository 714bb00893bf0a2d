import { execFileSync } from 'child_process';
import { ACTION_PATH, DOCKER, RUN_LABEL } from './env';

// The runner harness is shared with the demo (scripts/local-runner.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runAction } = require('../../../scripts/local-runner.js') as {
  runAction: (o: { inputs: Record<string, string>; github?: Record<string, string>; event?: object; extraEnv?: Record<string, string>; echo?: boolean; cancelWhen?: string }) => Promise<ActionRun>;
};

export interface ActionRun {
  code: number;
  cancelled: boolean;
  output: string;
  postCode: number;
  postOutput: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  seconds: number;
}

/** Runs dist/ as a runner would, with docker resolving to Debian's BuildKit-capable client. */
export async function runDist(inputs: Record<string, string>, opts: { github?: Record<string, string>; event?: object; cancelWhen?: string } = {}): Promise<ActionRun> {
  const t0 = Date.now();
  const r = await runAction({ inputs, ...opts, extraEnv: { PATH: ACTION_PATH }, echo: process.env.MLIB_E2E_ECHO === '1' });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

/** Containers carrying the action's run label: must be none after every case. */
export function leftoverContainers(): string[] {
  return execFileSync(DOCKER, ['ps', '-aq', '--filter', `label=${RUN_LABEL}`]).toString().split('\n').filter(Boolean);
}

/**
 * A secret may appear in raw stdout only inside `::add-mask::` commands, which the runner consumes
 * to mask it everywhere else. Anywhere else it would reach the log.
 */
export function leaks(output: string, secret: string): string[] {
  return output.split('\n').filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'));
}
