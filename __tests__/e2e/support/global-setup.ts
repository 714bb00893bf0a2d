import { execFileSync } from 'child_process';
import { DOCKER, BASE_IMAGES } from './env';

/**
 * The end-to-end suite needs the real engine, QEMU and base images that scripts/e2e-env.sh brings
 * up. If they are missing, fail the whole run loudly instead of skipping.
 */
export default function globalSetup(): void {
  try {
    execFileSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `end-to-end suite: no Docker engine answers via ${DOCKER}. Run 'bash scripts/e2e-env.sh' (as root) first, or set MLIB_SKIP_E2E=1 to run unit tests only.\n${(e as Error).message}`,
      { cause: e },
    );
  }
  for (const image of BASE_IMAGES) {
    try {
      execFileSync(DOCKER, ['image', 'inspect', image], { stdio: 'pipe' });
    } catch {
      throw new Error(`end-to-end suite: base image ${image} is missing; run 'bash scripts/e2e-env.sh'.`);
    }
  }
}
