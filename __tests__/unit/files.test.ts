import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InputError } from '../../src/errors';
import { checkBuildPaths, contextFiles, inWorkspace, readRegularFile, workspaceOf } from '../../src/files';
import { MAX_READ_BYTES } from '../../src/limits';

/*
 * The files the action reads, on a real filesystem: a workspace with a context holding every kind
 * of odd entry, and a directory beside the workspace that counts as outside.
 */
let root: string;
let ws: string;

beforeAll(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-files-')));
  ws = path.join(root, 'ws');
  const at = (rel: string) => path.join(ws, rel);
  fs.mkdirSync(at('ctx/requirements'), { recursive: true });
  fs.mkdirSync(path.join(root, 'outside'));
  fs.writeFileSync(path.join(root, 'outside/secret.txt'), 'torch==2.2.2\n');
  fs.writeFileSync(at('ctx/Dockerfile'), 'FROM scratch\n');
  fs.writeFileSync(at('ctx/requirements.txt'), 'torch==2.2.2\n');
  fs.writeFileSync(at('ctx/big.txt'), Buffer.alloc(MAX_READ_BYTES + 1, 0x23));
  fs.writeFileSync(at('ctx/exact.txt'), Buffer.alloc(MAX_READ_BYTES, 0x23));
  execFileSync('mkfifo', [at('ctx/fifo.txt')]);
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', at('ctx/socket.txt')]);
  fs.symlinkSync('/dev/zero', at('ctx/zero.txt'));
  fs.symlinkSync('requirements.txt', at('ctx/inside-link.txt'));
  fs.symlinkSync('../../outside/secret.txt', at('ctx/out-link.txt'));
  fs.symlinkSync('../Dockerfile.shared', at('ctx/side-link.txt'));
  fs.symlinkSync('loop.txt', at('ctx/loop.txt'));
  fs.symlinkSync('nowhere.txt', at('ctx/dangling.txt'));
  fs.writeFileSync(at('Dockerfile.shared'), 'FROM scratch\n');
  fs.symlinkSync('../outside', at('escape'));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function refusal(fn: () => unknown, input: string): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe(input);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('readRegularFile: regular files of bounded size inside the workspace', () => {
  const read = (rel: string) => readRegularFile(path.join(ws, rel), inWorkspace('file', ws), `'${rel}'`);

  test.each([
    { name: 'a FIFO (would block for ever)', rel: 'ctx/fifo.txt', says: 'is a FIFO (named pipe); accepted: a regular file' },
    { name: 'a socket', rel: 'ctx/socket.txt', says: 'is a socket' },
    { name: 'a directory', rel: 'ctx', says: 'is a directory' },
    { name: 'a link to /dev/zero (would fill memory)', rel: 'ctx/zero.txt', says: 'is outside the workspace (it leads to /dev/zero)' },
    { name: 'a file over 1 MiB', rel: 'ctx/big.txt', says: `is ${MAX_READ_BYTES + 1} bytes; the action reads files of at most ${MAX_READ_BYTES} bytes` },
    { name: 'a link out of the workspace', rel: 'ctx/out-link.txt', says: 'is outside the workspace (it leads to' },
    { name: 'a link loop', rel: 'ctx/loop.txt', says: 'leads back to itself' },
    { name: 'a dangling link', rel: 'ctx/dangling.txt', says: 'is a link to nowhere.txt, which does not exist' },
    { name: 'a missing file', rel: 'ctx/none.txt', says: 'does not exist' },
  ])('refuses $name', ({ rel, says }) => {
    expect(refusal(() => read(rel), 'file')).toContain(says);
  });

  test.each([
    { name: 'a regular file', rel: 'ctx/requirements.txt', want: 'torch==2.2.2\n' },
    { name: 'a link inside', rel: 'ctx/inside-link.txt', want: 'torch==2.2.2\n' },
    { name: 'exactly 1 MiB', rel: 'ctx/exact.txt', want: '#'.repeat(MAX_READ_BYTES) },
  ])('reads $name', ({ rel, want }) => {
    expect(read(rel)).toBe(want);
  });
});

describe('contextFiles: links stay inside the build context', () => {
  const ctx = () => contextFiles(path.join(ws, 'ctx'), path.join(ws, 'ctx/Dockerfile'), ws);
  test.each([
    { name: 'a link to elsewhere in the workspace', rel: 'side-link.txt', says: "'side-link.txt' in the build context" },
    { name: 'a link out of the workspace', rel: 'out-link.txt', says: 'docker build sends a link as the link itself' },
  ])('refuses $name', ({ rel, says }) => {
    expect(refusal(() => ctx().read(path.join(ws, 'ctx', rel)), 'context')).toContain(says);
  });
  test('a link inside the context is read', () => {
    expect(ctx().read(path.join(ws, 'ctx/inside-link.txt'))).toBe('torch==2.2.2\n');
  });
  test('a Dockerfile elsewhere in the workspace is read (BuildKit follows it)', () => {
    const files = contextFiles(path.join(ws, 'ctx'), path.join(ws, 'ctx/side-link.txt'), ws);
    expect(files.read(path.join(ws, 'ctx/side-link.txt'))).toBe('FROM scratch\n');
  });
  test('<Dockerfile>.dockerignore beside a Dockerfile outside the context is read, another file there is not', () => {
    fs.mkdirSync(path.join(ws, 'docker'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'docker/gpu.Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(ws, 'docker/gpu.Dockerfile.dockerignore'), 'docs\n');
    fs.writeFileSync(path.join(ws, 'docker/requirements.txt'), 'torch\n');
    const files = contextFiles(path.join(ws, 'ctx'), path.join(ws, 'docker/gpu.Dockerfile'), ws);
    expect(files.read(path.join(ws, 'docker/gpu.Dockerfile.dockerignore'))).toBe('docs\n');
    expect(refusal(() => files.read(path.join(ws, 'docker/requirements.txt')), 'context')).toContain('is outside the build context');
  });
  test('a linked directory is listed as a file (not entered)', () => {
    fs.symlinkSync('requirements', path.join(ws, 'ctx/dir-link'));
    expect(
      ctx()
        .list(path.join(ws, 'ctx'))
        .find((e) => e.name === 'dir-link'),
    ).toEqual({ name: 'dir-link', dir: false });
  });
});

describe('checkBuildPaths', () => {
  const check = (context: string, file: string) => checkBuildPaths({ context: path.join(ws, context), file: path.join(ws, file) }, ws);
  test.each([
    { name: 'a missing context', context: 'nope', file: 'ctx/Dockerfile', input: 'context', says: 'does not exist' },
    { name: 'a context that is a file', context: 'Dockerfile.shared', file: 'ctx/Dockerfile', input: 'context', says: 'is a file, not a directory' },
    { name: 'a context through a link out', context: 'escape', file: 'ctx/Dockerfile', input: 'context', says: 'is outside the workspace' },
    { name: 'a context of ..', context: '..', file: 'ctx/Dockerfile', input: 'context', says: 'is outside the workspace' },
    { name: 'a Dockerfile that is a directory', context: 'ctx', file: 'ctx', input: 'file', says: 'is a directory' },
    { name: 'a Dockerfile that is a FIFO', context: 'ctx', file: 'ctx/fifo.txt', input: 'file', says: 'FIFO' },
    { name: 'a Dockerfile outside', context: 'ctx', file: '../outside/secret.txt', input: 'file', says: 'is outside the workspace' },
  ])('refuses $name', ({ context, file, input, says }) => {
    expect(refusal(() => check(context, file), input)).toContain(says);
  });
  test('accepts a context and a Dockerfile inside', () => {
    expect(() => check('ctx', 'Dockerfile.shared')).not.toThrow();
  });
  test('the context may be the workspace itself', () => {
    expect(() => check('.', 'ctx/Dockerfile')).not.toThrow();
  });
});

describe('workspaceOf', () => {
  test.each([
    { name: 'GITHUB_WORKSPACE, links resolved', env: { GITHUB_WORKSPACE: 'ws' }, cwd: () => root, want: () => ws },
    { name: 'the working directory without it', env: {}, cwd: () => ws, want: () => ws },
  ])('$name', ({ env, cwd, want }) => {
    expect(workspaceOf(env, cwd())).toBe(want());
  });
});
