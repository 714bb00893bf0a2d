import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './env';

/**
 * A build context holding the example worker's server.py beside the fault fixture, so the faulty
 * images run the same server code users copy, with one fault switched on.
 */
export function faultyWorkerContext(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-faulty-'));
  fs.copyFileSync(path.join(ROOT, 'examples/worker/server.py'), path.join(dir, 'server.py'));
  for (const f of ['Dockerfile', 'fault.py']) {
    fs.copyFileSync(path.join(ROOT, '__tests__/fixtures/faulty-worker', f), path.join(dir, f));
  }
  return dir;
}
