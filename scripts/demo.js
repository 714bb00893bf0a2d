// Second half of scripts/demo.sh: starts a throwaway registry (htpasswd auth) and the stub wheel
// index on 127.0.0.1, runs dist/ through the local runner, prints the summary and the outputs.
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');
const { runAction } = require('./local-runner');
const { startRegistry, startWheelIndex, LOCAL_BASE_ARGS } = require('./local-services');

async function main() {
  const registry = await startRegistry({ user: 'demo' });
  const index = await startWheelIndex();
  try {
    let sha = '0000000000000000000000000000000000000000';
    try {
      sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.resolve(__dirname, '..'), stdio: 'pipe' })
        .toString()
        .trim();
    } catch {
      // not a git checkout: keep the placeholder commit
    }
    console.log(`registry ${registry.host} (user ${registry.user}), stub wheel index ${index.url}\n`);
    const r = await runAction({
      echo: true,
      // Debian's docker client drives the engine's BuildKit without the buildx plugin.
      extraEnv: { PATH: `/usr/bin:${process.env.PATH}` },
      github: { GITHUB_SHA: sha, GITHUB_REPOSITORY: 'example/ml-image-build-demo' },
      inputs: {
        image: `${registry.host}/example/worker`,
        context: 'examples/worker',
        'torch-index-url': index.url,
        network: 'host',
        'build-args': LOCAL_BASE_ARGS,
        'registry-username': registry.user,
        'registry-password': registry.password,
      },
    });
    console.log('\n===== job summary =====\n' + r.summary);
    console.log('===== outputs =====');
    console.log(`digest: ${r.outputs.digest ?? ''}\ntags:\n${r.outputs.tags ?? ''}`);
    console.log(`report: ${JSON.stringify(JSON.parse(r.outputs.report || '[]'), null, 2)}`);
    process.exitCode = r.code;
  } finally {
    registry.stop();
    index.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
