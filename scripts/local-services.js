// Throwaway services on 127.0.0.1 for the demo and the end-to-end tests: Debian's Distribution
// registry with htpasswd auth, and the stub PyTorch-style wheel index of examples/offline.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, proc, what) {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not answer at ${url}`);
}

/**
 * Starts a registry; returns { host, user, password, dir, stop() }. `root` puts its storage
 * elsewhere (the bench keeps it in memory, /dev/shm, so disk figures are the pusher's alone).
 */
async function startRegistry({ user = 'ci-pusher', password = `pw-${Math.random().toString(36).slice(2)}-secret`, root = os.tmpdir() } = {}) {
  const dir = fs.mkdtempSync(path.join(root, 'mlib-registry-'));
  const host = `127.0.0.1:${await freePort()}`;
  fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password]));
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${dir}/data}}`,
      `http: {addr: "${host}"}`,
      `auth: {htpasswd: {realm: ml-image-build, path: ${dir}/htpasswd}}`,
    ].join('\n'),
  );
  const proc = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  await waitFor(`http://${host}/v2/`, proc, 'docker-registry');
  return {
    host,
    user,
    password,
    dir,
    pid: proc.pid,
    stop() {
      proc.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes and serves the stub wheel index (examples/offline/make_index.py): PEP 691 JSON when the
 * Accept header asks for it, PEP 503 HTML otherwise, as a hosted index answers pip and the action's
 * preflight; `htmlOnly` answers HTML whatever is asked (a static server, as download.pytorch.org is).
 * Returns { url, stop(), requests() }: requests() reads the server's log, one
 * { path, accept, status, answered: 'json' | 'html' | 'file' | ... } per request so far.
 */
async function startWheelIndex(versions = '2.2.2', { htmlOnly = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-index-'));
  const log = path.join(dir, 'requests.jsonl');
  const port = await freePort();
  const args = [
    path.join(ROOT, 'examples/offline/make_index.py'),
    path.join(dir, 'whl'),
    '--versions',
    versions,
    '--serve',
    String(port),
    '--log',
    log,
    ...(htmlOnly ? ['--html-only'] : []),
  ];
  const proc = spawn('python3', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/cpu/`, proc, 'wheel index server');
  return {
    url,
    requests() {
      if (!fs.existsSync(log)) return [];
      return fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    stop() {
      proc.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** build-args input choosing each platform's local mmdebstrap base (scripts/e2e-env.sh). */
const LOCAL_BASE_ARGS = ['amd64', 'arm64'].map((a) => `linux/${a}:BASE_IMAGE=mlib-base/bookworm-python3:${a}`).join('\n');

module.exports = { freePort, startRegistry, startWheelIndex, LOCAL_BASE_ARGS };
