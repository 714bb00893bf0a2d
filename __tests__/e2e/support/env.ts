import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../../..');

/**
 * A temporary directory inside the workspace the runs get (ROOT): the action refuses build
 * contexts, Dockerfiles and ml-image.yml files outside GITHUB_WORKSPACE. Ignored by git; remove it when done.
 */
export function workspaceTempDir(prefix: string): string {
  const base = path.join(ROOT, '.e2e-tmp');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}
/** Debian's docker client: it drives the engine's BuildKit without the buildx plugin. */
export const DOCKER = '/usr/bin/docker';
/** PATH for the action under test, so `docker` is the client above and not a buildx-less 23+ CLI. */
export const ACTION_PATH = `/usr/bin:${process.env.PATH}`;
/** Local images scripts/e2e-env.sh makes with mmdebstrap; fixtures start from them. */
export const BASE_IMAGES = ['mlib-base/bookworm-python3:amd64', 'mlib-base/bookworm-python3:arm64', 'mlib-base/bookworm-torch:amd64'];
export const RUN_LABEL = 'io.ml-image-build.run';
