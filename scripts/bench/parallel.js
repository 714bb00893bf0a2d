// npm run bench (part 2): two platforms built and verified side by side (`parallel: 2`) against
// each platform alone, through the bundled action (dist/) as a runner runs it, push off. Each
// platform's build keeps one core busy (scripts/bench/cpu-worker.Dockerfile), so on a machine
// with a core per platform side by side should cost little more than the slower one alone.
// Prints min/median/max of each and wall(both)/max(single), wall(both)/sum(single). Asserts nothing.
//
// Environment: BENCH_PARALLEL_ROUNDS (2), BENCH_WORK_AMD64 (200000000), BENCH_WORK_ARM64 (20000000).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runAction } = require('../local-runner');
const { startWheelIndex, LOCAL_BASE_ARGS } = require('../local-services');

const ROOT = path.join(__dirname, '../..');
const ROUNDS = Number(process.env.BENCH_PARALLEL_ROUNDS || 2);
const WORK = { 'linux/amd64': process.env.BENCH_WORK_AMD64 || '200000000', 'linux/arm64': process.env.BENCH_WORK_ARM64 || '20000000' };
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];

async function once(index, context, platforms, parallel, nonce) {
  const t0 = Date.now();
  const r = await runAction({
    inputs: {
      image: '127.0.0.1:5999/bench/parallel',
      context,
      file: path.join(context, 'Dockerfile'),
      platforms: platforms.join(','),
      push: 'false',
      parallel: String(parallel),
      'torch-index-url': index.url,
      network: 'host',
      'build-args': [LOCAL_BASE_ARGS, `BENCH_NONCE=${nonce}`, ...platforms.map((p) => `${p}:BENCH_WORK=${WORK[p]}`)].join('\n'),
    },
    // The action builds only inside the workspace: the bench context is one.
    workspace: context,
    extraEnv: { PATH: `/usr/bin:${process.env.PATH}` },
  });
  if (r.code !== 0) throw new Error(`bench run of ${platforms.join(', ')} failed:\n${r.output.slice(-3000)}`);
  const report = JSON.parse(r.outputs.report);
  return { wall: (Date.now() - t0) / 1000, build: Object.fromEntries(report.map((e) => [e.platform, e.timings.buildSeconds])) };
}

async function main() {
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const index = await startWheelIndex('2.2.2');
  const context = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-bench-parallel-'));
  fs.copyFileSync(path.join(ROOT, 'examples/worker/server.py'), path.join(context, 'server.py'));
  fs.copyFileSync(path.join(__dirname, 'cpu-worker.Dockerfile'), path.join(context, 'Dockerfile'));
  const cases = { amd64: [['linux/amd64'], 1], arm64: [['linux/arm64'], 1], both: [['linux/amd64', 'linux/arm64'], 2] };
  const results = { amd64: [], arm64: [], both: [] };
  console.log(
    `\nPlatforms side by side: ${cores} cores; single-core build work ${WORK['linux/amd64']} (amd64, native) and ${WORK['linux/arm64']} (arm64, QEMU)`,
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const names = Object.keys(cases);
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const name of order) {
        const [platforms, parallel] = cases[name];
        const r = await once(index, context, platforms, parallel, `${Date.now()}-${name}`);
        results[name].push(r.wall);
        console.log(
          `  round ${round + 1} ${name}: ${r.wall.toFixed(1)}s (build ${Object.entries(r.build)
            .map(([p, s]) => `${p} ${s}s`)
            .join(', ')})`,
        );
      }
    }
  } finally {
    index.stop();
    fs.rmSync(context, { recursive: true, force: true });
  }
  const stat = (xs) => `${Math.min(...xs).toFixed(1)} / ${median(xs).toFixed(1)} / ${Math.max(...xs).toFixed(1)}`;
  console.log('\n| run | wall s min / median / max |');
  console.log('| --- | --- |');
  for (const [name, xs] of Object.entries(results)) console.log(`| ${name === 'both' ? 'both, parallel: 2' : `${name} alone`} | ${stat(xs)} |`);
  const both = median(results.both);
  const single = [median(results.amd64), median(results.arm64)];
  console.log(`\nwall(both) / max(single) = ${(both / Math.max(...single)).toFixed(2)}   (target: at most 1.15 where each platform has its own cores)`);
  console.log(`wall(both) / sum(single) = ${(both / (single[0] + single[1])).toFixed(2)}   (1.00 = no better than one after the other)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
