// npm run bench: the action's own registry upload (push by digest from `docker save`) against
// `docker push` of the same image, side by side in one run, alternating, on fresh local
// registries. Prints medians and ratios; asserts nothing (timings on shared machines are noisy).
// Needs what scripts/e2e-env.sh sets up.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { build } = require('esbuild');
const { startRegistry } = require('./local-services');

const DOCKER = '/usr/bin/docker';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const RANDOM_MB = Number(process.env.BENCH_RANDOM_MB || 128);
const docker = (args, opts = {}) => execFileSync(DOCKER, args, { stdio: 'pipe', ...opts }).toString().trim();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function loadUploader(dir) {
  // The sources, bundled as the action bundles them, so the bench measures the shipped code path.
  const out = path.join(dir, 'upload.js');
  const entry = path.join(dir, 'entry.ts');
  const src = path.resolve(__dirname, '../src');
  fs.writeFileSync(entry, `export { pushByDigest } from '${src}/publish/upload';\nexport { RegistryClient } from '${src}/publish/registry';\nexport { Docker } from '${src}/adapters/docker';\n`);
  await build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
  return require(out);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-bench-'));
  const { pushByDigest, RegistryClient, Docker } = await loadUploader(dir);
  const ctx = path.join(dir, 'ctx');
  fs.mkdirSync(ctx);
  // A compressible base (Debian, python) plus an incompressible layer: both kinds torch images have.
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM mlib-base/bookworm-python3:amd64\nRUN head -c ${RANDOM_MB}M /dev/urandom > /weights.bin\n`);
  const image = 'mlib-bench/image:latest';
  docker(['build', '-q', '-t', image, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1' } });
  const size = Number(docker(['image', 'inspect', '-f', '{{.Size}}', image]));
  console.log(`image: ${(size / 1e6).toFixed(0)} MB uncompressed (Debian + python base, ${RANDOM_MB} MB random layer); ${ROUNDS} rounds, fresh registries each`);

  const times = { dockerPush: [], byDigest: [] };
  let peakRss = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const method of round % 2 ? ['byDigest', 'dockerPush'] : ['dockerPush', 'byDigest']) {
      const reg = await startRegistry();
      try {
        const ref = `${reg.host}/bench/${method.toLowerCase()}`;
        let t0;
        if (method === 'dockerPush') {
          const config = path.join(dir, `docker-config-${round}`);
          fs.mkdirSync(config, { recursive: true });
          docker(['--config', config, 'login', reg.host, '-u', reg.user, '--password-stdin'], { input: reg.password });
          docker(['tag', image, `${ref}:bench`]);
          t0 = process.hrtime.bigint();
          docker(['--config', config, 'push', `${ref}:bench`]);
        } else {
          const client = new RegistryClient(reg.host, `bench/${method.toLowerCase()}`, { username: reg.user, password: reg.password });
          const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
          t0 = process.hrtime.bigint();
          try {
            await pushByDigest(new Docker(DOCKER), client, image, dir, () => {});
          } finally {
            clearInterval(sampler);
          }
        }
        times[method].push(Number(process.hrtime.bigint() - t0) / 1e9);
      } finally {
        reg.stop();
      }
    }
  }
  const a = median(times.dockerPush);
  const b = median(times.byDigest);
  console.log(`docker push              median ${a.toFixed(2)} s  (${times.dockerPush.map((t) => t.toFixed(2)).join(', ')})`);
  console.log(`push by digest (action)  median ${b.toFixed(2)} s  (${times.byDigest.map((t) => t.toFixed(2)).join(', ')})`);
  console.log(`ratio push-by-digest / docker push: ${(b / a).toFixed(2)}x time`);
  console.log(`peak RSS of the node process while uploading: ${(peakRss / 1e6).toFixed(0)} MB for a ${(size / 1e6).toFixed(0)} MB image (${(peakRss / size).toFixed(2)}x; layers are streamed from disk, so this should not grow with layer size: try BENCH_RANDOM_MB=512)`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
