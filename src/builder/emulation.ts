import * as fs from 'fs';
import { PhaseError } from '../errors';
import type { PlatformPlan } from '../plan/plan';

export type ReadFile = (path: string) => string | undefined;

const readIfExists: ReadFile = (path) => {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * A platform the runner cannot execute natively is built and run under QEMU user emulation,
 * which the kernel finds through binfmt_misc. Without it the build fails late with `exec format
 * error`, so check up front and say how to fix it.
 */
export function checkEmulation(p: PlatformPlan, host: string | undefined, read: ReadFile = readIfExists): 'native' | 'emulated' {
  if (p.platform === host) return 'native';
  const entry = `/proc/sys/fs/binfmt_misc/${p.binfmt}`;
  const text = read(entry);
  if (text === undefined || !text.startsWith('enabled')) {
    throw new PhaseError(
      'build',
      `${p.platform} cannot run on this ${host ?? 'unknown'} runner: no QEMU emulation is registered (${entry} is ${text === undefined ? 'missing' : 'disabled'}). ` +
        `Add 'docker/setup-qemu-action' before this step, or on a Debian/Ubuntu host run: apt-get install qemu-user-static binfmt-support && update-binfmts --enable ${p.binfmt}. ` +
        `Or build this platform on a native runner.`,
    );
  }
  return 'emulated';
}
