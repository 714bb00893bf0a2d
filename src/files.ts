import * as fs from 'fs';
import * as path from 'path';
import { InputError } from './errors';
import { MAX_READ_BYTES } from './limits';

/**
 * The files of the user's repository the action itself reads (ml-image.yml, the Dockerfile, the
 * requirements files and pyproject.toml pin lint checks) and the paths it hands to docker build.
 * Every one must lie inside the workspace (GITHUB_WORKSPACE, links resolved), and a file read must
 * be a regular file of bounded size: a FIFO would block the plan for ever, /dev/zero would fill
 * memory, a socket or directory gives an errno instead of an answer.
 */

export { MAX_READ_BYTES };

/** The workspace every path must resolve into: GITHUB_WORKSPACE on a runner, else the working directory. */
export function workspaceOf(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const ws = path.resolve(cwd, env.GITHUB_WORKSPACE || '.');
  try {
    return fs.realpathSync(ws);
  } catch {
    return ws;
  }
}

const inside = (dir: string, p: string) => {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** What a non-regular file is, in words. */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Where a path's links lead, or why they lead nowhere. */
function realOf(p: string, shown: string, input: string, accepted = ''): string {
  try {
    return fs.realpathSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new InputError(input, `${shown} is a link that leads back to itself (a loop)`);
    if (code === 'ENOENT') {
      const dangling = fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink();
      throw new InputError(
        input,
        `${dangling ? `${shown} is a link to ${fs.readlinkSync(p)}, which does not exist` : `${shown} does not exist (${p})`}${accepted}`,
      );
    }
    throw new InputError(input, `${shown} cannot be read (${code ?? (e as Error).message})`);
  }
}

export interface PathRule {
  /** The input (or config key) named in errors. */
  input: string;
  /** The directory the path, links resolved, must stay in. */
  within: string;
  /** How that directory is called in errors. */
  withinName: string;
  /** Why a path leading out of it is refused, when the name does not say. */
  why?: string;
}

/**
 * The real path of `p` (relative to the working directory), refused when it does not exist or
 * resolves outside `rule.within`. `shown` is how errors call it.
 */
export function resolveInside(p: string, rule: PathRule, shown = `'${p}'`): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
    throw new InputError(
      rule.input,
      `${shown} is a URL; accepted: a path inside the ${rule.withinName} (remote build contexts are not supported: pin lint and verification read the files)`,
    );
  }
  const real = realOf(path.resolve(p), shown, rule.input, `; accepted: a path inside the ${rule.withinName}`);
  if (!inside(rule.within, real)) {
    const via = path.resolve(p) !== real ? ` (it leads to ${real})` : '';
    throw new InputError(
      rule.input,
      `${shown} is outside the ${rule.withinName}${via}${rule.why ? `: ${rule.why}` : ''}; accepted: a path inside ${rule.within}`,
    );
  }
  return real;
}

/** A directory inside the workspace (the build context). */
export function checkDirectory(p: string, rule: PathRule): string {
  const real = resolveInside(p, rule);
  const st = fs.statSync(real);
  if (!st.isDirectory())
    throw new InputError(rule.input, `'${p}' is ${st.isFile() ? 'a file' : kindOf(st)}, not a directory; accepted: a directory inside the ${rule.withinName}`);
  return real;
}

/**
 * Reads a regular file of at most MAX_READ_BYTES whose real path is inside `rule.within`. Opened
 * non-blocking and checked again on the open descriptor, so a FIFO put there after the check
 * cannot block the read.
 */
export function readRegularFile(p: string, rule: PathRule, shown = `'${p}'`): string {
  const real = resolveInside(p, rule, shown);
  // Not even opened unless regular: opening some devices has effects of its own.
  const before = fs.statSync(real);
  if (!before.isFile()) throw new InputError(rule.input, `${shown} is ${kindOf(before)}; accepted: a regular file`);
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW | fs.constants.O_NOCTTY);
  } catch (e) {
    const st = fs.statSync(real, { throwIfNoEntry: false });
    if (st && !st.isFile()) throw new InputError(rule.input, `${shown} is ${kindOf(st)}; accepted: a regular file`);
    throw new InputError(rule.input, `${shown} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputError(rule.input, `${shown} is ${kindOf(st)}; accepted: a regular file`);
    if (st.size > MAX_READ_BYTES) {
      throw new InputError(rule.input, `${shown} is ${st.size} bytes; the action reads files of at most ${MAX_READ_BYTES} bytes (1 MiB)`);
    }
    const buf = Buffer.alloc(Math.min(st.size, MAX_READ_BYTES) + 1);
    let n = 0;
    for (let r: number; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, null)) > 0;) n += r;
    if (n > st.size) throw new InputError(rule.input, `${shown} grew while it was read; try again`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** The workspace rule for one input. */
export const inWorkspace = (input: string, workspace: string): PathRule => ({
  input,
  within: workspace,
  withinName: 'workspace',
  why: 'the action builds and reads only the files of the checked-out repository (GITHUB_WORKSPACE)',
});

/**
 * The build's paths before any build: the context is a directory and the Dockerfile a regular
 * file of at most MAX_READ_BYTES, both inside the workspace. Errors name `context` or `file`.
 */
export function checkBuildPaths(inputs: { context: string; file: string }, workspace: string): void {
  checkDirectory(inputs.context, inWorkspace('context', workspace));
  readRegularFile(inputs.file, inWorkspace('file', workspace));
}

/**
 * The build context as pin lint walks it: directories are entered only when they really are
 * directories (a link to one is not followed, as docker build sends the link), and every file
 * read must be a regular file whose links stay inside the context: docker build would send the
 * link itself, not what it names. The Dockerfile may lie elsewhere in the workspace
 * (checkBuildPaths has checked it).
 */
export function contextFiles(
  contextDir: string,
  dockerfile: string,
  workspace: string,
): { list(dir: string): { name: string; dir: boolean }[]; read(p: string): string } {
  const root = path.resolve(contextDir);
  const rootReal = realOf(root, `'${contextDir}'`, 'context');
  const rule: PathRule = {
    input: 'context',
    within: rootReal,
    withinName: `build context '${contextDir}'`,
    why: 'docker build sends a link as the link itself, so the image would hold a dangling one; copy the file into the context',
  };
  return {
    list: (dir) => fs.readdirSync(dir, { withFileTypes: true }).map((d) => ({ name: d.name, dir: d.isDirectory() })),
    read: (p) => {
      // BuildKit follows a linked Dockerfile and reads <Dockerfile>.dockerignore beside it (both are
      // sent apart from the context): the workspace is their limit.
      const resolved = path.resolve(p);
      if (resolved === path.resolve(dockerfile) || resolved === `${path.resolve(dockerfile)}.dockerignore`)
        return readRegularFile(p, inWorkspace('file', workspace));
      const rel = path.relative(root, path.resolve(p)).split(path.sep).join('/');
      return readRegularFile(p, rule, `'${rel}' in the build context '${contextDir}'`);
    },
  };
}
