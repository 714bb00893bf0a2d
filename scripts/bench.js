// npm run bench: the action's publish path against what a user would run instead (`docker push`,
// `skopeo copy`), side by side in one run, alternating, on fresh local registries, at the scale
// of a real torch image (3 layers of about 1 GB that gzip about 2x). Prints min/median/max wall
// time, peak extra disk, peak memory and CPU seconds of each, the ratios to `docker push`, and the
// physical limit (pigz of the same bytes on every core). Asserts nothing: timings on shared
// machines are noisy, which is why they live here and not in the tests.
// Needs what scripts/e2e-env.sh sets up (engine, registry binary, skopeo, pigz), and about
// 2x the image size in memory (registries and the pigz input live in /dev/shm).
//
// Environment: BENCH_ROUNDS (3), BENCH_LAYER_MB (1024), BENCH_LAYERS (3), BENCH_LEVEL (6).
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { build } = require('esbuild');
const { startRegistry } = require('./local-services');

const DOCKER = '/usr/bin/docker';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const LAYER_MB = Number(process.env.BENCH_LAYER_MB || 1024);
const LAYERS = Number(process.env.BENCH_LAYERS || 3);
const LEVEL = Number(process.env.BENCH_LEVEL || 6);
const CORES = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const SHM = '/dev/shm';
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString()); // /proc times are in these
const ENGINE_TMP = '/var/lib/docker/tmp';

const docker = (args, opts = {}) =>
  execFileSync(DOCKER, args, { stdio: 'pipe', maxBuffer: 64 * 1024 * 1024, ...opts })
    .toString()
    .trim();
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const gb = (n) => `${(n / 1e9).toFixed(2)} GB`;
const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;

/** utime+stime of a process in seconds (/proc/PID/stat fields 14, 15), or of its waited children (16, 17). */
function cpuOf(pid, children = false) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const i = children ? 13 : 11; // fields after the command name: utime is the 12th, cutime the 14th
    return (Number(f[i]) + Number(f[i + 1])) / TICK;
  } catch {
    return 0;
  }
}
function rssOf(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
}
/** A process and all its descendants. */
function tree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const t of fs.readdirSync(`/proc/${out[i]}/task`)) {
        const kids = fs.readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(' ').map(Number));
      }
    } catch {
      // gone
    }
  }
  return out;
}
function duBytes(dir) {
  let n = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          n += fs.lstatSync(p).blocks * 512;
        } catch {
          // gone
        }
      }
    }
  };
  walk(dir);
  return n;
}
const freeBytes = (p) => {
  const s = fs.statfsSync(p);
  return s.bavail * s.bsize;
};
/** The engine under test (the pull-back engine of the tests runs beside it with a pid file of its own). */
const dockerdPid = () => Number(fs.readFileSync('/var/run/docker.pid', 'utf8').trim());

/**
 * Runs a command, sampling every 100 ms: free disk on / (everything: our temp files, the
 * engine's staging, skopeo's temp file), the engine's tmp dir and the tool's own temp dir, the
 * RSS of the command's process tree, and the engine's RSS. CPU: the command's tree (waited
 * children) plus the engine's.
 */
function measured(cmd, args, { env = {}, ownTmp } = {}) {
  return new Promise((resolve, reject) => {
    const engine = dockerdPid();
    const cpu0 = { self: cpuOf('self', true), engine: cpuOf(engine) };
    const engineRss0 = rssOf(engine);
    const free0 = freeBytes('/');
    const peak = { disk: 0, engineTmp: 0, ownTmp: 0, rss: 0, engineRss: 0 };
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      peak.disk = Math.max(peak.disk, free0 - freeBytes('/'));
      peak.engineTmp = Math.max(peak.engineTmp, duBytes(ENGINE_TMP));
      if (ownTmp) peak.ownTmp = Math.max(peak.ownTmp, duBytes(ownTmp));
      peak.rss = Math.max(
        peak.rss,
        tree(child.pid).reduce((a, p) => a + rssOf(p), 0),
      );
      peak.engineRss = Math.max(peak.engineRss, rssOf(engine) - engineRss0);
    };
    const timer = setInterval(sample, 100);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ wall, ...peak, cpuTool: cpuOf('self', true) - cpu0.self, cpuEngine: cpuOf(engine) - cpu0.engine, stdout, stderr });
    });
  });
}

async function bundleEntry(dir) {
  const out = path.join(dir, 'push.js');
  await build({
    entryPoints: [path.join(__dirname, 'bench/push-entry.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
  return out;
}

function buildImages(dir) {
  const ctx = path.join(dir, 'ctx');
  fs.mkdirSync(ctx);
  fs.copyFileSync(path.join(__dirname, 'bench/gen-layer.py'), path.join(ctx, 'gen-layer.py'));
  const runs = [];
  for (let i = 1; i < LAYERS; i++) runs.push(`RUN python3 /gen-layer.py /data/l${i} ${i} ${LAYER_MB}`);
  // The ARG comes right before the only step that uses it: declared earlier, it would be part of
  // every later RUN's cache key and image b would share no layer with image a.
  runs.push('ARG LAST_SEED', `RUN python3 /gen-layer.py /data/l${LAYERS} \${LAST_SEED} ${LAYER_MB}`);
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), ['FROM mlib-base/bookworm-python3:amd64', 'COPY gen-layer.py /gen-layer.py', ...runs, ''].join('\n'));
  const images = {};
  for (const [name, seed] of [
    ['a', LAYERS],
    ['b', LAYERS + 100],
  ]) {
    const ref = `mlib-bench/image:${name}`;
    const t0 = Date.now();
    docker(['build', '-q', '--build-arg', `LAST_SEED=${seed}`, '-t', ref, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1' } });
    images[name] = { ref, size: Number(docker(['image', 'inspect', '-f', '{{.Size}}', ref])), seconds: (Date.now() - t0) / 1000 };
  }
  return images;
}

/** The layer tars of the image in memory, for the compression floor. */
function extractLayers(ref) {
  const dir = fs.mkdtempSync(path.join(SHM, 'mlib-bench-layers-'));
  execFileSync('bash', ['-c', `${DOCKER} save ${ref} | tar -x -C ${dir} --wildcards '*/layer.tar'`]);
  const files = [];
  const walk = (d) =>
    fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name))));
  walk(dir);
  return { dir, files, bytes: files.reduce((a, f) => a + fs.statSync(f).size, 0) };
}

const METHODS = {
  async action(ctx, reg, repo, tag, ref) {
    const ownTmp = fs.mkdtempSync(path.join(ctx.dir, 'runner-temp-'));
    const r = await measured(process.execPath, [ctx.entry, ref, reg.host, repo, tag], {
      env: { BENCH_DOCKER: DOCKER, BENCH_USER: reg.user, BENCH_PASSWORD: reg.password, BENCH_LEVEL: String(LEVEL), RUNNER_TEMP: ownTmp, TMPDIR: ownTmp },
      ownTmp,
    });
    const report = JSON.parse(r.stdout.trim().split('\n').pop());
    fs.rmSync(ownTmp, { recursive: true, force: true });
    return {
      ...r,
      rss: Math.max(r.rss, report.maxRssKb * 1024),
      detail: `${report.push.uploaded} uploaded, ${report.push.reused} reused, ${mb(report.push.bytesSent)} sent; node max RSS ${mb(report.maxRssKb * 1024)}`,
    };
  },
  async 'docker push'(ctx, reg, repo, tag, ref) {
    const config = fs.mkdtempSync(path.join(ctx.dir, 'docker-config-'));
    docker(['--config', config, 'login', reg.host, '-u', reg.user, '--password-stdin'], { input: reg.password });
    docker(['tag', ref, `${reg.host}/${repo}:${tag}`]);
    try {
      return await measured(DOCKER, ['--config', config, 'push', `${reg.host}/${repo}:${tag}`]);
    } finally {
      docker(['rmi', `${reg.host}/${repo}:${tag}`]);
    }
  },
  async 'skopeo copy'(ctx, reg, repo, tag, ref) {
    // skopeo reads the docker-daemon image into a temp file first: give it a dir to measure.
    const ownTmp = fs.mkdtempSync(path.join(ctx.dir, 'skopeo-tmp-'));
    const r = await measured(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--dest-creds',
        `${reg.user}:${reg.password}`,
        '--dest-tls-verify=false',
        `docker-daemon:${ref}`,
        `docker://${reg.host}/${repo}:${tag}`,
      ],
      { env: { TMPDIR: ownTmp }, ownTmp },
    );
    fs.rmSync(ownTmp, { recursive: true, force: true });
    return r;
  },
};

function row(name, runs, base) {
  const w = runs.map((r) => r.wall);
  const ratio = base ? `${(median(w) / median(base.map((r) => r.wall))).toFixed(2)}x` : '';
  const max = (k) => Math.max(...runs.map((r) => r[k]));
  const cpu = median(runs.map((r) => r.cpuTool + r.cpuEngine));
  return `| ${name} | ${sorted(w)[0].toFixed(1)} / ${median(w).toFixed(1)} / ${sorted(w)[w.length - 1].toFixed(1)} | ${ratio} | ${gb(max('disk'))} | ${gb(max('engineTmp'))} | ${mb(max('ownTmp'))} | ${mb(max('rss'))} | ${mb(max('engineRss'))} | ${cpu.toFixed(1)} (${median(runs.map((r) => r.cpuTool)).toFixed(1)} + ${median(runs.map((r) => r.cpuEngine)).toFixed(1)}) |`;
}
const HEAD = [
  '| method | wall s min / median / max | vs docker push (median) | peak extra disk, all | of it engine tmp | own temp files | peak RSS | engine RSS growth | CPU s: tool + engine |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-bench-'));
  const ctx = { dir, entry: await bundleEntry(dir) };
  console.log(
    `machine: ${CORES} cores, ${os.cpus()[0].model}, ${gb(os.totalmem())} memory; docker ${docker(['version', '--format', '{{.Server.Version}}'])} (${docker(['info', '--format', '{{.Driver}}'])})`,
  );
  console.log(`building the bench images (${LAYERS} layers of ${LAYER_MB} MiB, deterministic, gzip about 2x)...`);
  const images = buildImages(dir);
  const a = images.a;
  console.log(`image a: ${gb(a.size)} uncompressed (built in ${a.seconds.toFixed(0)}s); image b: the same but its last layer\n`);

  // The physical limit: gzip of the same layer bytes at the same level on every core.
  const layers = extractLayers(a.ref);
  const floor = await measured('bash', ['-c', `pigz -${LEVEL} -p ${CORES} -c ${layers.files.join(' ')} | wc -c`]);
  const pigzOut = Number(floor.stdout.trim());
  console.log(
    `physical limit: pigz -${LEVEL} -p ${CORES} of the ${gb(layers.bytes)} of layers: ${floor.wall.toFixed(1)}s (${(layers.bytes / pigzOut).toFixed(2)}x smaller)`,
  );
  fs.rmSync(layers.dir, { recursive: true, force: true });

  // First push to a fresh registry, alternating the order every round.
  const names = Object.keys(METHODS);
  const first = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const reg = await startRegistry({ root: SHM });
      try {
        const r = await METHODS[name](ctx, reg, 'bench/first', 'latest', a.ref);
        first[name].push(r);
        console.log(`  round ${round + 1} ${name}: ${r.wall.toFixed(1)}s${r.detail ? ` (${r.detail})` : ''}`);
      } finally {
        reg.stop();
      }
    }
  }

  // Re-push of the same image, and a push of the image that differs in its last layer only, to a
  // registry that already holds the first push (not timed).
  const again = Object.fromEntries(names.map((n) => [n, []]));
  const lastLayer = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < Math.max(1, Math.min(ROUNDS, 2)); round++) {
    for (const name of names) {
      const reg = await startRegistry({ root: SHM });
      try {
        await METHODS[name](ctx, reg, 'bench/repush', 'latest', a.ref);
        const r1 = await METHODS[name](ctx, reg, 'bench/repush', 'latest', a.ref);
        again[name].push(r1);
        const r2 = await METHODS[name](ctx, reg, 'bench/repush', 'latest', images.b.ref);
        lastLayer[name].push(r2);
        console.log(
          `  round ${round + 1} ${name}: re-push ${r1.wall.toFixed(1)}s${r1.detail ? ` (${r1.detail})` : ''}, last layer changed ${r2.wall.toFixed(1)}s${r2.detail ? ` (${r2.detail})` : ''}`,
        );
      } finally {
        reg.stop();
      }
    }
  }

  const table = (title, results) => {
    console.log(`\n${title}\n`);
    console.log(HEAD.join('\n'));
    for (const n of names) console.log(row(n, results[n], n === 'docker push' ? undefined : results['docker push']));
  };
  table(`First push of image a (${gb(a.size)}), fresh registry each time, ${ROUNDS} rounds`, first);
  console.log(
    `| physical limit: pigz -${LEVEL} -p ${CORES} | ${floor.wall.toFixed(1)} | ${(floor.wall / median(first['docker push'].map((r) => r.wall))).toFixed(2)}x | | | | | | ${floor.cpuTool.toFixed(1)} |`,
  );
  table('Re-push of image a to a registry that has it', again);
  table('Push of image b (last layer differs) to a registry that has image a', lastLayer);
  fs.rmSync(dir, { recursive: true, force: true });
  docker(['rmi', images.a.ref, images.b.ref]);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
