import * as fs from 'fs';
import * as path from 'path';
import type { SecretSource } from './argv';
import type { BuildOptions } from './options';

/**
 * Writes each `secrets` value to its own 0600 file in a fresh 0700 directory under `root`
 * (RUNNER_TEMP on a runner), for `--secret id=ID,src=FILE`: BuildKit takes secrets from files or
 * the environment, and a file read by the docker client alone keeps the value out of argv, the
 * log and the image. `onDir` hears of the directory before anything is written in it, so the
 * post step removes it after a cancel; the run removes it when the builds (and the rebuild that
 * pushes) are done. File names are numbers: an id never becomes a path.
 * `secret-files` are passed as they are.
 */
export function writeSecrets(o: Pick<BuildOptions, 'secrets' | 'secretFiles'>, root: string, onDir: (dir: string) => void): SecretSource[] {
  const out: SecretSource[] = [];
  if (o.secrets.length) {
    const dir = fs.mkdtempSync(path.join(root, 'mlib-secrets-'));
    onDir(dir);
    fs.chmodSync(dir, 0o700);
    o.secrets.forEach((s, i) => {
      const src = path.join(dir, String(i));
      // wx: never through a file (or link) someone put there first.
      fs.writeFileSync(src, s.value, { mode: 0o600, flag: 'wx' });
      out.push({ id: s.id, src });
    });
  }
  for (const f of o.secretFiles) out.push({ id: f.id, src: path.resolve(f.path) });
  return out;
}
