// Runs the bundled action the way a GitHub runner does: inputs as INPUT_* (with action.yml's
// defaults filled in), GITHUB_* context, file commands (GITHUB_OUTPUT, GITHUB_STATE,
// GITHUB_STEP_SUMMARY), then the post entry with the saved state as STATE_*. Used by the demo and
// by the end-to-end tests; nothing in it stands in for Docker, QEMU or the registry.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const yaml = require('js-yaml');

const ROOT = path.resolve(__dirname, '..');
/** The bundle to run: this checkout's dist/, or another build of it (MLIB_DIST_DIR) to compare against. */
const DIST = process.env.MLIB_DIST_DIR ? path.resolve(process.env.MLIB_DIST_DIR) : path.join(ROOT, 'dist');

/** Parses a file-command file: `name<<DELIM\nvalue\nDELIM` blocks and plain `name=value` lines. */
function parseFileCommand(text) {
  const out = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const value = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]);
      out[heredoc[1]] = value.join('\n');
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=');
      out[lines[i].slice(0, at)] = lines[i].slice(at + 1);
    }
  }
  return out;
}

function inputEnv(inputs, env) {
  const spec = yaml.load(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')).inputs;
  const out = {};
  for (const [name, def] of Object.entries(spec)) {
    let value = inputs[name];
    if (value === undefined) {
      // The two expression defaults in action.yml, resolved as a runner would.
      value = String(def.default ?? '')
        .replace('${{ github.actor }}', env.GITHUB_ACTOR || '')
        .replace('${{ github.token }}', env.GITHUB_TOKEN || '');
    }
    out[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value);
  }
  for (const name of Object.keys(inputs)) {
    if (!(name in spec)) throw new Error(`local-runner: '${name}' is not an input of action.yml`);
  }
  return out;
}

/**
 * `cancelWhen`: a string; once the output contains it (and `cancelDelayMs` later), the step gets
 * SIGINT, as a cancelled run does; a runner follows with SIGTERM 7.5 s later, then kills it.
 * `timeoutMs`: the step is killed (SIGKILL, as a runner's step timeout ends a hung process) after this long.
 */
function node(entry, env, echo, cancelWhen, cancelDelayMs = 0, timeoutMs = 0) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(DIST, entry)], { env, cwd: env.GITHUB_WORKSPACE });
    let stdout = '';
    let cancelled = false;
    let timedOut = false;
    const timer = timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs)
      : undefined;
    const take = (d, sink) => {
      stdout += d;
      if (echo) sink.write(d);
      if (cancelWhen && !cancelled && stdout.includes(cancelWhen)) {
        cancelled = true;
        setTimeout(() => {
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGTERM'), 7500).unref();
        }, cancelDelayMs);
      }
    };
    child.stdout.on('data', (d) => take(d, process.stdout));
    child.stderr.on('data', (d) => take(d, process.stderr));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, signal, cancelled, timedOut, output: stdout });
    });
  });
}

/**
 * Runs main then post (the post step runs also after a failure or a cancel, as with `post-if: always()`). `inputs` are action inputs by name; `github` overrides GITHUB_* values.
 * Returns exit codes, combined output of each step, parsed outputs, state and the job summary.
 */
async function runAction({
  inputs = {},
  github = {},
  event = { repository: { default_branch: 'main' } },
  workspace = ROOT,
  echo = false,
  extraEnv = {},
  cancelWhen,
  cancelDelayMs,
  timeoutMs,
} = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-runner-'));
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
    GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
  };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  fs.writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(event));
  fs.mkdirSync(path.join(dir, 'tmp'));

  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('STATE_')));
  const ctx = {
    GITHUB_ACTIONS: 'true',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'example/ml-worker',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_ACTOR: 'octo',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: path.join(dir, 'tmp'),
    ...github,
  };
  const env = { ...base, ...ctx, ...files, ...extraEnv };
  Object.assign(env, inputEnv(inputs, env));

  const main = await node('index.js', env, echo, cancelWhen, cancelDelayMs, timeoutMs);
  const state = parseFileCommand(fs.readFileSync(files.GITHUB_STATE, 'utf8'));
  const postEnv = { ...env };
  for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
  const runnerTempAfterMain = fs.readdirSync(env.RUNNER_TEMP);
  const post = await node('post.js', postEnv, echo, undefined, 0, timeoutMs);
  const result = {
    // What the steps left in RUNNER_TEMP: after the main step, and after the post step too.
    runnerTempAfterMain,
    runnerTempAfterPost: fs.readdirSync(env.RUNNER_TEMP),
    code: main.code,
    cancelled: main.cancelled,
    timedOut: main.timedOut,
    output: main.output,
    postCode: post.code,
    postOutput: post.output,
    outputs: parseFileCommand(fs.readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    state,
    summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

module.exports = { runAction, parseFileCommand };
