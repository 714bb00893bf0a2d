import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../src/config';
import { InputError } from '../../src/errors';
import {
  describeExpected,
  jsonEqual,
  lookupJson,
  maskSecret,
  parseChecks,
  parseJsonPath,
  runCheck,
  type CheckAdapters,
  type DeclaredCheck,
  type ExecAnswer,
  type HttpAnswer,
  type HttpFailure,
} from '../../src/verify/checks';
import { fakeClock, pingBody } from './fixtures';

const FIXTURES = path.join(__dirname, '../fixtures/checks');
const AS_INPUT = { input: 'checks' };

function refusal(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

/** One check parsed from YAML text, for the run tests. */
function check(yaml: string): DeclaredCheck {
  const [c] = parseChecks(yaml, AS_INPUT);
  return c;
}

describe('parseChecks: accepted', () => {
  test.each([
    { name: 'empty text is no checks', text: '', want: [] },
    { name: 'only comments is no checks', text: '# none yet\n', want: [] },
    {
      name: 'a string exec runs through sh -c; probe defaults and exit code 0 filled in',
      text: '- name: offline\n  exec: test "$HF_HUB_OFFLINE" = 1\n',
      want: [
        {
          kind: 'exec',
          name: 'offline',
          argv: ['sh', '-c', 'test "$HF_HUB_OFFLINE" = 1'],
          expect: [{ exitCode: 0, json: [] }],
          initialDelaySeconds: 0,
          periodSeconds: 10,
          timeoutSeconds: 1,
          successThreshold: 1,
          failureThreshold: 3,
        },
      ],
    },
    {
      name: 'plain scalars in argv are kept as written (1.10 is not 1.1)',
      text: '- name: s\n  exec: [sleep, 1.10, 0x10, "quoted"]\n',
      want: [expect.objectContaining({ argv: ['sleep', '1.10', '0x10', 'quoted'] })],
    },
    {
      name: 'http defaults: GET, status 200, no body',
      text: '- name: ping\n  http: {path: /v1/ping}\n  periodSeconds: 2\n',
      want: [
        {
          kind: 'http',
          name: 'ping',
          method: 'GET',
          path: '/v1/ping',
          headers: {},
          expect: [{ status: 200, json: [] }],
          initialDelaySeconds: 0,
          periodSeconds: 2,
          timeoutSeconds: 1,
          successThreshold: 1,
          failureThreshold: 3,
        },
      ],
    },
    {
      name: 'a POST with a map body is sent as JSON with a content type',
      text: '- name: t\n  http:\n    path: /v1/transcribe\n    method: post\n    headers: {Authorization: "Bearer ${WORKER_TOKEN}"}\n    body: {dryRun: true}\n  expect: {status: 202}\n',
      want: [
        expect.objectContaining({
          method: 'POST',
          body: '{"dryRun":true}',
          headers: { Authorization: 'Bearer ${WORKER_TOKEN}', 'Content-Type': 'application/json' },
          expect: [{ status: 202, json: [] }],
        }),
      ],
    },
    {
      name: 'json values keep their YAML types; a list under expect is alternatives',
      text: '- name: p\n  http: {path: /v1/ping}\n  expect:\n    - json: {diarization: true, version: "1.4", "devices[0]": null}\n    - status: 503\n',
      want: [
        expect.objectContaining({
          expect: [
            {
              status: 200,
              json: [
                { path: 'diarization', segments: ['diarization'], value: true },
                { path: 'version', segments: ['version'], value: '1.4' },
                { path: 'devices[0]', segments: ['devices', 0], value: null },
              ],
            },
            { status: 503, json: [] },
          ],
        }),
      ],
    },
  ])('$name', ({ text, want }) => {
    expect(parseChecks(text, AS_INPUT)).toEqual(want);
  });

  test('a regex is compiled with the m flag: ^ and $ match at line ends', () => {
    const c = check("- name: r\n  exec: 'true'\n  expect: {stdout: '^offline$'}\n");
    expect(c.kind === 'exec' && c.expect[0].stdout?.test('loading\noffline\n')).toBe(true);
  });
});

describe('parseChecks: refused, naming the input, the check and the key', () => {
  const ok = "  exec: 'true'\n";
  test.each([
    { name: 'not a list', text: 'name: a\nexec: "true"\n', want: /^Input 'checks': checks: must be a list of checks/ },
    {
      name: 'a list item that is not a map',
      text: '- just a string\n',
      want: /^Input 'checks': checks\[0\]: must be a map \(a check\); got string 'just a string'$/,
    },
    {
      name: 'unknown key',
      text: `- name: a\n${ok}  retries: 3\n`,
      want: /^Input 'checks': checks\[0\] \('a'\): unknown key 'retries'; accepted: name, exec, http, expect, initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold$/,
    },
    { name: 'no name', text: `-${ok.slice(1)}`, want: /^Input 'checks': checks\[0\]: has no name/ },
    { name: 'empty name', text: `- name: '  '\n${ok}`, want: /^Input 'checks': checks\[0\]\.name: must be a non-empty string$/ },
    { name: 'name that is not a string', text: `- name: [a]\n${ok}`, want: /checks\[0\]\.name: must be a non-empty string; got a list$/ },
    {
      name: 'duplicate names',
      text: `- name: a\n${ok}- name: a\n${ok}`,
      want: /^Input 'checks': checks\[1\] \('a'\)\.name: 'a' is also the name of checks\[0\]; names must be unique$/,
    },
    {
      name: 'both exec and http',
      text: `- name: a\n${ok}  http: {path: /}\n`,
      want: /^Input 'checks': checks\[0\] \('a'\): has both exec and http; accepted: one of them per check$/,
    },
    {
      name: 'neither exec nor http',
      text: '- name: a\n  timeoutSeconds: 2\n',
      want: /^Input 'checks': checks\[0\] \('a'\): has neither exec nor http; accepted: exec .* or http/,
    },
    {
      name: 'regex that does not compile',
      text: `- name: a\n${ok}  expect: {stdout: 'large-v3(\\.pt'}\n`,
      want: /^Input 'checks': checks\[0\] \('a'\)\.expect\.stdout: 'large-v3\(\\\.pt' is not a regular expression \(Unterminated group\); accepted: a JavaScript regular expression/,
    },
    {
      name: 'negative periodSeconds',
      text: `- name: a\n${ok}  periodSeconds: -1\n`,
      want: /^Input 'checks': checks\[0\] \('a'\)\.periodSeconds: number -1 is not accepted; accepted: a whole number from 1 to 86400$/,
    },
    {
      name: 'negative initialDelaySeconds',
      text: `- name: a\n${ok}  initialDelaySeconds: -5\n`,
      want: /checks\[0\] \('a'\)\.initialDelaySeconds: number -5 is not accepted; accepted: a whole number from 0 to 86400$/,
    },
    {
      name: 'fractional timeoutSeconds',
      text: `- name: a\n${ok}  timeoutSeconds: 1.5\n`,
      want: /\.timeoutSeconds: number 1\.5 is not accepted; accepted: a whole number from 1 to 86400$/,
    },
    {
      name: 'failureThreshold 0',
      text: `- name: a\n${ok}  failureThreshold: 0\n`,
      want: /\.failureThreshold: number 0 is not accepted; accepted: a whole number from 1 to 1000$/,
    },
    {
      name: 'successThreshold as a string',
      text: `- name: a\n${ok}  successThreshold: "2"\n`,
      want: /\.successThreshold: string '2' is not accepted; accepted: a whole number/,
    },
    {
      name: 'exitCode above 255',
      text: `- name: a\n${ok}  expect: {exitCode: 256}\n`,
      want: /^Input 'checks': checks\[0\] \('a'\)\.expect\.exitCode: number 256 is not accepted; accepted: a whole number from 0 to 255$/,
    },
    {
      name: 'exitCode below 0',
      text: `- name: a\n${ok}  expect: {exitCode: -1}\n`,
      want: /\.expect\.exitCode: number -1 is not accepted; accepted: a whole number from 0 to 255$/,
    },
    {
      name: 'http path not starting with /',
      text: '- name: a\n  http: {path: v1/ping}\n',
      want: /^Input 'checks': checks\[0\] \('a'\)\.http\.path: 'v1\/ping' is not accepted; accepted: a path starting with \/ and without spaces/,
    },
    { name: 'http without a path', text: '- name: a\n  http: {method: GET}\n', want: /checks\[0\] \('a'\)\.http: has no path/ },
    {
      name: 'status above 599',
      text: '- name: a\n  http: {path: /}\n  expect: {status: 600}\n',
      want: /^Input 'checks': checks\[0\] \('a'\)\.expect\.status: number 600 is not accepted; accepted: a whole number from 100 to 599$/,
    },
    {
      name: 'status in the second alternative',
      text: '- name: a\n  http: {path: /}\n  expect: [{status: 200}, {status: 99}]\n',
      want: /checks\[0\] \('a'\)\.expect\[1\]\.status: number 99 is not accepted/,
    },
    {
      name: 'malformed json path',
      text: '- name: a\n  http: {path: /}\n  expect: {json: {"a..b": 1}}\n',
      want: /^Input 'checks': checks\[0\] \('a'\)\.expect\.json\.a\.\.b: 'a\.\.b' is not a JSON path; accepted: names joined by dots, \[N\] for an array index, \["key"\] for other keys/,
    },
    {
      name: 'json path with an unclosed index',
      text: '- name: a\n  http: {path: /}\n  expect: {json: {"devices[0": 1}}\n',
      want: /'devices\[0' is not a JSON path/,
    },
    {
      name: 'json that is not a map',
      text: '- name: a\n  http: {path: /}\n  expect: {json: [diarization]}\n',
      want: /\.expect\.json: must map JSON paths to values.*; got a list$/,
    },
    {
      name: 'an http expectation on an exec check',
      text: `- name: a\n${ok}  expect: {status: 200}\n`,
      want: /checks\[0\] \('a'\)\.expect: unknown key 'status'; accepted: exitCode, stdout, json$/,
    },
    {
      name: 'an exec expectation on an http check',
      text: '- name: a\n  http: {path: /}\n  expect: {exitCode: 0}\n',
      want: /checks\[0\] \('a'\)\.expect: unknown key 'exitCode'; accepted: status, body, json$/,
    },
    { name: 'an empty list of alternatives', text: `- name: a\n${ok}  expect: []\n`, want: /\.expect: must be a map, or a non-empty list of maps/ },
    {
      name: 'method not accepted',
      text: '- name: a\n  http: {path: /, method: PUT}\n',
      want: /^Input 'checks': checks\[0\] \('a'\)\.http\.method: 'PUT' is not accepted; accepted: GET, POST$/,
    },
    { name: 'unknown http key', text: '- name: a\n  http: {path: /, port: 80}\n', want: /\.http: unknown key 'port'; accepted: path, method, headers, body$/ },
    {
      name: 'a placeholder other than the worker token',
      text: '- name: a\n  http:\n    path: /\n    headers: {Authorization: "Bearer ${HF_TOKEN}"}\n',
      want: /^Input 'checks': checks\[0\] \('a'\)\.http\.headers\.Authorization: '\$\{HF_TOKEN\}' is not a placeholder here; accepted: \$\{WORKER_TOKEN\}$/,
    },
    {
      name: 'a header value that is a map',
      text: '- name: a\n  http:\n    path: /\n    headers: {X-A: {b: c}}\n',
      want: /\.http\.headers\.X-A: must be a single value; got a map$/,
    },
    {
      name: 'a body on a GET',
      text: '- name: a\n  http: {path: /, body: "{}"}\n',
      want: /\.http\.body: a GET request has no body; accepted: method: POST with a body$/,
    },
    { name: 'an empty exec list', text: '- name: a\n  exec: []\n', want: /checks\[0\] \('a'\)\.exec: must not be empty/ },
    {
      name: 'exec as a number',
      text: '- name: a\n  exec: 5\n',
      want: /checks\[0\] \('a'\)\.exec: number 5 is not accepted; accepted: \[program, args\.\.\.\] or a non-empty string run by sh -c$/,
    },
    {
      name: 'an argv item that is a map',
      text: '- name: a\n  exec: [python3, {c: x}]\n',
      want: /checks\[0\] \('a'\)\.exec\[1\]: must be a string; got a map$/,
    },
    { name: 'YAML syntax error', text: '- name: a\n  exec: [python3\n', want: /^Input 'checks': checks: not valid YAML \(line \d of the input\): / },
    {
      name: 'a key given twice',
      text: `- name: a\n${ok}  exec: 'false'\n`,
      want: /^Input 'checks': checks: not valid YAML \(line 3 of the input\): Map keys must be unique$/,
    },
  ])('$name', ({ text, want }) => {
    const e = refusal(() => parseChecks(text, AS_INPUT));
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe('checks');
    expect(e.message).toMatch(want);
  });

  test.each([
    {
      name: 'a line in the file',
      where: { file: 'checks.yml' },
      text: `- name: a\n  exec: 'true'\n  expect:\n    exitCode: 300\n`,
      want: "checks.yml:4: checks[0] ('a').expect.exitCode: number 300 is not accepted; accepted: a whole number from 0 to 255",
    },
    {
      name: 'text that starts further down a file, under another key',
      where: { file: 'ml-image.yml', line: 12, key: 'images[1].checks' },
      text: "- name: a\n  exec: 'true'\n- name: b\n  http: {path: ping}\n",
      want: "ml-image.yml:15: images[1].checks[1] ('b').http.path: 'ping' is not accepted; accepted: a path starting with / and without spaces, e.g. /v1/ping",
    },
    { name: 'a syntax error at its line', where: { file: 'checks.yml' }, text: '- name: a\n  exec: [x\n', want: /^checks\.yml:\d: checks: not valid YAML: / },
  ])('file: $name', ({ where, text, want }) => {
    const e = refusal(() => parseChecks(text, where));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(want);
  });
});

describe('JSON paths and values', () => {
  test.each([
    { path: 'status', want: ['status'] },
    { path: 'gpu.name', want: ['gpu', 'name'] },
    { path: 'devices[0].memory', want: ['devices', 0, 'memory'] },
    { path: 'models["large-v3"].loaded', want: ['models', 'large-v3', 'loaded'] },
    { path: '["a.b"]', want: ['a.b'] },
    { path: '[2][10]', want: [2, 10] },
    { path: 'max-jobs', want: ['max-jobs'] },
    { path: '', want: undefined },
    { path: 'a..b', want: undefined },
    { path: '.a', want: undefined },
    { path: 'a.', want: undefined },
    { path: 'a[01]', want: undefined },
    { path: 'a[-1]', want: undefined },
    { path: "a['b']", want: undefined },
    { path: '0abc', want: undefined },
  ])('parseJsonPath($path)', ({ path: p, want }) => {
    expect(parseJsonPath(p)).toEqual(want);
  });

  const body = { a: { b: [{ c: 1 }], 'x.y': null } };
  test.each([
    { name: 'nested through an array', segments: ['a', 'b', 0, 'c'], want: { found: true, value: 1 } },
    { name: 'a key with a dot', segments: ['a', 'x.y'], want: { found: true, value: null } },
    { name: 'index past the end', segments: ['a', 'b', 1], want: { found: false } },
    { name: 'index into an object', segments: ['a', 0], want: { found: false } },
    { name: 'a key of an array', segments: ['a', 'b', 'length'], want: { found: false } },
    { name: 'inherited properties are not keys', segments: ['a', 'constructor'], want: { found: false } },
  ])('lookupJson: $name', ({ segments, want }) => {
    expect(lookupJson(body, segments)).toEqual(want);
  });

  test.each([
    { name: 'the string "true" is not true', a: 'true', b: true, want: false },
    { name: 'the string "1" is not 1', a: '1', b: 1, want: false },
    { name: 'null is not false', a: null, b: false, want: false },
    { name: 'objects in any key order', a: { x: 1, y: [1, 2] }, b: { y: [1, 2], x: 1 }, want: true },
    { name: 'arrays in order', a: [1, 2], b: [2, 1], want: false },
    { name: 'an extra key differs', a: { x: 1 }, b: { x: 1, y: 2 }, want: false },
    { name: 'an array is not an object', a: [], b: {}, want: false },
  ])('jsonEqual: $name', ({ a, b, want }) => {
    expect(jsonEqual(a, b)).toBe(want);
  });
});

type Step = { takes?: number } & (ExecAnswer | HttpAnswer | HttpFailure | { throws: string });

/** Adapters answering from a script (the last step repeats), recording when and how they were called. */
function scripted(clock: ReturnType<typeof fakeClock>, steps: Step[]) {
  const calls: { at: number; timeoutMs: number; argv?: string[]; headers?: Record<string, string>; body?: string }[] = [];
  let i = 0;
  const next = async () => {
    const s = steps[Math.min(i++, steps.length - 1)];
    if (s.takes) clock.advance(s.takes);
    if ('throws' in s) throw new Error(s.throws);
    return s;
  };
  const adapters: CheckAdapters = {
    exec: async (argv, timeoutMs) => {
      calls.push({ at: clock.now(), timeoutMs, argv });
      return (await next()) as ExecAnswer;
    },
    http: async (_method, _path, headers, body, timeoutMs) => {
      calls.push({ at: clock.now(), timeoutMs, headers, body });
      return (await next()) as HttpAnswer | HttpFailure;
    },
  };
  return { adapters, calls };
}

const exit = (code: number, stdout = '', stderr = ''): ExecAnswer => ({ code, stdout, stderr });

describe('runCheck: probe semantics', () => {
  const whisper = (extra = '') => check(`- name: whisper\n  exec: [python3, -c, 'print(1)']\n  expect: {stdout: whisper}\n${extra}`);

  test.each([
    {
      name: 'passes on the 3rd attempt, one period apart',
      extra: '',
      steps: [exit(1, '', 'FileNotFoundError'), exit(1), exit(0, 'whisper large-v3')],
      want: { passed: true, attempts: 3, at: [0, 10000, 20000] },
    },
    {
      name: 'fails after failureThreshold consecutive failures',
      extra: '  failureThreshold: 2\n',
      steps: [exit(1)],
      want: { passed: false, attempts: 2, at: [0, 10000] },
    },
    {
      name: 'a success resets the failures (failureThreshold counts in a row)',
      extra: '  successThreshold: 2\n  failureThreshold: 2\n',
      steps: [exit(1), exit(0, 'whisper'), exit(1), exit(0, 'whisper'), exit(0, 'whisper')],
      want: { passed: true, attempts: 5, at: [0, 10000, 20000, 30000, 40000] },
    },
    {
      name: 'successThreshold 2 needs two successes in a row',
      extra: '  successThreshold: 2\n',
      steps: [exit(0, 'whisper'), exit(1), exit(0, 'whisper'), exit(0, 'whisper')],
      want: { passed: true, attempts: 4, at: [0, 10000, 20000, 30000] },
    },
    {
      name: 'a right exit code with the wrong output is a failure',
      extra: '',
      steps: [exit(0, 'siglip')],
      want: { passed: false, attempts: 3, at: [0, 10000, 20000] },
    },
    {
      name: 'an answer later than timeoutSeconds is a timeout, hence a failure',
      extra: '  timeoutSeconds: 1\n',
      steps: [{ ...exit(0, 'whisper'), takes: 1500 }],
      want: { passed: false, attempts: 3, at: [0, 10000, 20000] },
    },
    {
      name: 'an adapter that says it timed out is a failure',
      extra: '',
      steps: [{ ...exit(137), timedOut: true }, exit(0, 'whisper')],
      want: { passed: true, attempts: 2, at: [0, 10000] },
    },
    {
      name: 'initialDelaySeconds before the first attempt',
      extra: '  initialDelaySeconds: 30\n  periodSeconds: 5\n',
      steps: [exit(1), exit(0, 'whisper')],
      want: { passed: true, attempts: 2, at: [30000, 35000] },
    },
    {
      name: 'an attempt that overruns its period skips the missed ticks',
      extra: '  periodSeconds: 1\n  timeoutSeconds: 5\n',
      steps: [{ ...exit(1), takes: 2500 }],
      want: { passed: false, attempts: 3, at: [0, 3000, 6000] },
    },
    {
      name: 'a flapping check fails after 3 x (successThreshold + failureThreshold) attempts',
      extra: '  successThreshold: 2\n  failureThreshold: 2\n',
      steps: Array.from({ length: 20 }, (_, i) => (i % 2 ? exit(1) : exit(0, 'whisper'))),
      want: { passed: false, attempts: 12, at: Array.from({ length: 12 }, (_, i) => i * 10000) },
    },
  ])('$name', async ({ extra, steps, want }) => {
    const clock = fakeClock();
    const { adapters, calls } = scripted(clock, steps);
    const run = await runCheck(whisper(extra), adapters, clock);
    expect({ passed: run.passed, attempts: run.attempts, at: calls.map((c) => c.at) }).toEqual(want);
    expect(run.finding === undefined).toBe(run.passed);
  });

  test('initialDelaySeconds counts from when the container started', async () => {
    const clock = fakeClock(100000);
    const { adapters, calls } = scripted(clock, [exit(0, 'whisper')]);
    await runCheck(whisper('  initialDelaySeconds: 30\n'), adapters, clock, { startedAt: 80000 });
    expect(calls.map((c) => c.at)).toEqual([110000]);
  });

  test('the adapter gets timeoutSeconds in milliseconds and the argv as declared', async () => {
    const clock = fakeClock();
    const { adapters, calls } = scripted(clock, [exit(0, 'whisper')]);
    await runCheck(whisper('  timeoutSeconds: 30\n'), adapters, clock);
    expect(calls).toEqual([{ at: 0, timeoutMs: 30000, argv: ['python3', '-c', 'print(1)'] }]);
  });

  test.each([
    {
      name: 'exit code and stderr',
      extra: '',
      steps: [exit(1, '', 'Traceback (most recent call last):\nFileNotFoundError: large-v3.pt\n')],
      want: {
        check: "check 'whisper'",
        expected: 'exit code 0 and stdout matching /whisper/',
        actual: 'exit code 1 after 3 attempts; stderr: Traceback (most recent call last):\nFileNotFoundError: large-v3.pt',
      },
    },
    {
      name: 'output that does not match',
      extra: '  failureThreshold: 1\n',
      steps: [exit(0, 'siglip so400m\n')],
      want: {
        check: "check 'whisper'",
        expected: 'exit code 0 and stdout matching /whisper/',
        actual: 'stdout not matching /whisper/ after 1 attempt; stdout: siglip so400m',
      },
    },
    {
      name: 'a timeout',
      extra: '  successThreshold: 2\n',
      steps: [{ ...exit(0, 'whisper'), takes: 2000 }],
      want: {
        check: "check 'whisper'",
        expected: 'exit code 0 and stdout matching /whisper/, 2 times in a row',
        actual: 'timeout (1s) after 3 attempts; stdout: whisper',
      },
    },
    {
      name: 'an adapter error',
      extra: '  failureThreshold: 1\n',
      steps: [{ throws: 'container mlib-amd64 is not running' }],
      want: {
        check: "check 'whisper'",
        expected: 'exit code 0 and stdout matching /whisper/',
        actual: 'error: container mlib-amd64 is not running after 1 attempt',
      },
    },
  ])('finding: $name', async ({ extra, steps, want }) => {
    const clock = fakeClock();
    const { adapters } = scripted(clock, steps);
    expect((await runCheck(whisper(extra), adapters, clock)).finding).toEqual(want);
  });

  test('stderr in a finding is kept to its last 500 characters', async () => {
    const clock = fakeClock();
    const { adapters } = scripted(clock, [exit(1, '', `${'x'.repeat(2000)}END`)]);
    const { finding } = await runCheck(whisper('  failureThreshold: 1\n'), adapters, clock);
    expect(finding!.actual).toBe(`exit code 1 after 1 attempt; stderr: …${'x'.repeat(497)}END`);
  });

  test('a cancelled run stops before the next attempt', async () => {
    const clock = fakeClock();
    const ac = new AbortController();
    const { adapters, calls } = scripted(clock, [exit(1)]);
    const original = adapters.exec.bind(adapters);
    adapters.exec = async (argv, t) => {
      ac.abort();
      return original(argv, t);
    };
    await expect(runCheck(whisper(), adapters, clock, { signal: ac.signal })).rejects.toThrow("check 'whisper' cancelled");
    expect(calls).toHaveLength(1);
  });
});

describe('runCheck: http and the worker token', () => {
  const TOKEN = 's3cr3t-9f8e7d';
  const ping = check(
    '- name: ping\n  http:\n    path: /v1/ping\n    headers: {Authorization: "Bearer ${WORKER_TOKEN}"}\n  expect: {json: {diarization: true}}\n  failureThreshold: 2\n',
  );

  test('the request carries the token; nothing returned does', async () => {
    const clock = fakeClock();
    const echo = JSON.stringify(pingBody({ diarization: false, debug: `Authorization: Bearer ${TOKEN}` }));
    const { adapters, calls } = scripted(clock, [{ status: 200, body: echo }]);
    const run = await runCheck(ping, adapters, clock, { token: TOKEN });
    expect(calls[0].headers).toEqual({ Authorization: `Bearer ${TOKEN}` });
    expect(run.passed).toBe(false);
    expect(JSON.stringify(run)).not.toContain(TOKEN);
    expect(run.finding!.actual).toContain('Authorization: Bearer ***');
    expect(run.lastResult.body).toContain('Bearer ***');
  });

  test.each([
    { name: 'an error message', step: { throws: `fetch failed for Bearer ${TOKEN}` } },
    { name: 'a failure the adapter reports', step: { error: `ECONNRESET (token ${TOKEN})` } },
  ])('the token in $name is masked', async ({ step }) => {
    const clock = fakeClock();
    const { adapters } = scripted(clock, [step]);
    const run = await runCheck(ping, adapters, clock, { token: TOKEN });
    expect(JSON.stringify(run)).not.toContain(TOKEN);
    expect(run.finding!.actual).toContain('***');
  });

  test('the token in an exec check output is masked too', async () => {
    const clock = fakeClock();
    const { adapters } = scripted(clock, [exit(1, `token=${TOKEN}`, `bad token ${TOKEN}`)]);
    const run = await runCheck(check("- name: env\n  exec: 'env'\n  failureThreshold: 1\n"), adapters, clock, { token: TOKEN });
    expect(run.finding!.actual).toBe('exit code 1 after 1 attempt; stderr: bad token ***');
    expect(JSON.stringify(run)).not.toContain(TOKEN);
  });

  test.each([
    { name: 'plain', s: 'a TOK b TOK', token: 'TOK', want: 'a *** b ***' },
    { name: 'JSON-escaped form too', s: '{"t":"ab\\"cd"} ab"cd', token: 'ab"cd', want: '{"t":"***"} ***' },
    { name: 'no token, nothing masked', s: 'a b', token: '', want: 'a b' },
  ])('maskSecret: $name', ({ s, token, want }) => {
    expect(maskSecret(s, token)).toBe(want);
  });

  test('an http finding shows status, mismatch and body', async () => {
    const clock = fakeClock();
    const { adapters } = scripted(clock, [{ status: 401, body: '{"error":"unauthorized"}' }]);
    const run = await runCheck(ping, adapters, clock, { token: TOKEN });
    expect(run.finding).toEqual({
      check: "check 'ping'",
      expected: 'GET /v1/ping: HTTP 200 and json diarization = true',
      actual: 'HTTP 401 after 2 attempts; body: {"error":"unauthorized"}',
    });
  });
});

describe('fixtures: the example check lists the README shows', () => {
  const load = (file: string) => parseChecks(fs.readFileSync(path.join(FIXTURES, file), 'utf8'), { file });

  test.each([
    { file: 'whisper-model-cached.yml', names: ['whisper model cached', 'hugging face offline'], kinds: ['exec', 'exec'] },
    { file: 'diarization-required.yml', names: ['pyannote importable', 'diarization available'], kinds: ['exec', 'http'] },
    { file: 'diarization-or-reported-error.yml', names: ['diarization available or its error reported'], kinds: ['http'] },
  ])('$file parses', ({ file, names, kinds }) => {
    const checks = load(file);
    expect(checks.map((c) => c.name)).toEqual(names);
    expect(checks.map((c) => c.kind)).toEqual(kinds);
  });

  test('the whisper check runs python with the script as one argument', () => {
    const [c] = load('whisper-model-cached.yml');
    expect(c.kind === 'exec' && c.argv.slice(0, 2)).toEqual(['python3', '-c']);
    expect(c.kind === 'exec' && c.argv[2]).toContain('raise SystemExit(0 if found else 1)');
    expect(describeExpected(c)).toBe('exit code 0 and stdout matching /^whisper model: \\/.*large-v3/');
    expect(c.kind === 'exec' && c.expect[0].stdout!.test('whisper model: /app/models/.cache/whisper/large-v3.pt\n')).toBe(true);
    expect(c.kind === 'exec' && c.expect[0].stdout!.test('whisper model: missing (looked in /root/.cache/whisper and /root/.cache/huggingface/hub)\n')).toBe(
      false,
    );
  });

  const required = load('diarization-required.yml')[1];
  const lenient = load('diarization-or-reported-error.yml')[0];
  test.each([
    { name: 'diarization on', body: pingBody(), want: { required: true, lenient: true } },
    {
      name: 'off, with the import error reported',
      body: pingBody({ diarization: false, diarizationError: "ModuleNotFoundError: No module named 'pyannote'" }),
      want: { required: false, lenient: true },
    },
    { name: 'off, with no reason given', body: pingBody({ diarization: false }), want: { required: false, lenient: false } },
    { name: 'off, with an empty reason', body: pingBody({ diarization: false, diarizationError: '' }), want: { required: false, lenient: false } },
    { name: 'the string "true" is not true', body: pingBody({ diarization: 'true' }), want: { required: false, lenient: false } },
  ])('diarization checks against a ping body: $name', async ({ body, want }) => {
    const got: Record<string, boolean> = {};
    for (const [name, c] of [
      ['required', required],
      ['lenient', lenient],
    ] as const) {
      const clock = fakeClock();
      const { adapters } = scripted(clock, [{ status: 200, body: JSON.stringify(body) }]);
      got[name] = (await runCheck(c, adapters, clock, { token: 'tok-1234' })).passed;
    }
    expect(got).toEqual(want);
  });

  test('the lenient check names both alternatives in its finding', async () => {
    const clock = fakeClock();
    const { adapters } = scripted(clock, [{ status: 200, body: JSON.stringify(pingBody({ diarization: false })) }]);
    const { finding } = await runCheck(lenient, adapters, clock, { token: 'tok-1234' });
    expect(finding!.expected).toBe(
      'GET /v1/ping: HTTP 200 and json diarization = true or HTTP 200 and body matching /"diarizationError"\\s*:\\s*"[^"]+/ and json diarization = false',
    );
    expect(finding!.actual).toMatch(
      /^HTTP 200, json diarization = false \/ HTTP 200, body not matching \/"diarizationError".*\/ after 6 attempts; body: \{"status":"ok"/,
    );
  });
});
