import * as fs from 'fs';
import * as path from 'path';
import { ROOT, workspaceTempDir } from './env';
import { LOCAL_BASE_ARGS, type Registry, type WheelIndex } from './services';

/**
 * A build context holding the example worker's server.py beside the fault fixture, so the faulty
 * images run the same server code users copy, with one fault switched on.
 */
export function faultyWorkerContext(): string {
  const dir = workspaceTempDir('mlib-faulty-');
  fs.copyFileSync(path.join(ROOT, 'examples/worker/server.py'), path.join(dir, 'server.py'));
  for (const f of ['Dockerfile', 'fault.py']) {
    fs.copyFileSync(path.join(ROOT, '__tests__/fixtures/faulty-worker', f), path.join(dir, f));
  }
  return dir;
}

/**
 * Inputs of a run that builds `context` from the local base images and stub wheel index, and
 * pushes to `registry` (when it gets that far); `extra` overrides, its build-args come after the base ones.
 */
export function faultyInputs(
  registry: Registry,
  index: WheelIndex,
  context: string,
  repository: string,
  extra: Record<string, string>,
  token: string,
): Record<string, string> {
  return {
    image: `${registry.host}/${repository}`,
    context,
    'torch-index-url': index.url,
    network: 'host',
    'registry-username': registry.user,
    'registry-password': registry.password,
    'worker-token': token,
    ...extra,
    'build-args': [LOCAL_BASE_ARGS, extra['build-args'] ?? ''].join('\n').trim(),
  };
}
