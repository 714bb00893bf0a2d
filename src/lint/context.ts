/**
 * Pin lint: a pure planning check, run before any build, that the worker's Python dependencies are
 * pinned exactly (==), never ranges, and agree with the versions the plan installs. A torch,
 * torchaudio or pyannote version other than the one planned crashes at run time, not at build time.
 *
 * Sources understood: requirements/constraints files, pyproject.toml (PEP 621, PEP 735 groups,
 * uv, Poetry) and a Dockerfile's `RUN ... pip install` commands. Each finding names file and line.
 * This file walks the build context and hands each file to the reader for its kind.
 */
import ignore, { type Ignore } from '@balena/dockerignore';
import * as nodePath from 'path';
import { contextFiles, workspaceOf } from '../files';
import type { PinFinding, Planned } from './findings';
import { lintDockerfile } from './dockerfile';
import { lintPyproject } from './pyproject';
import { lintRequirements } from './requirements';

export interface FileSystem {
  list(dir: string): { name: string; dir: boolean }[];
  read(path: string): string;
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', '.nox']);
const MAX_DEPTH = 4;

type Kind = 'requirements' | 'pyproject';

/** requirements*.txt, constraints*.txt, *-requirements.txt, *.requirements.txt, requirements/*.txt, pyproject.toml */
function kindOf(name: string, dirName: string): Kind | null {
  if (name === 'pyproject.toml') return 'pyproject';
  if (!/\.txt$/i.test(name)) return null;
  if (/^(requirements|constraints)/i.test(name) || /[._-](requirements|constraints)\.txt$/i.test(name)) return 'requirements';
  return /^requirements$/i.test(dirName) ? 'requirements' : null;
}

/**
 * The files the build never sees, as BuildKit decides it: <Dockerfile>.dockerignore beside the
 * Dockerfile when there is one, else .dockerignore at the context root, read by
 * @balena/dockerignore (Docker's own matching: `*` stays in one directory, `**` crosses them,
 * `!` re-includes, a pattern naming a directory excludes all under it). None: nothing excluded.
 */
function ignoredFiles(contextDir: string, dockerfile: string, fs: FileSystem): { rules: Ignore; reincludes: boolean } | null {
  const has = (dir: string, name: string) => fs.list(dir).some((e) => e.name === name && !e.dir);
  const specific = `${dockerfile}.dockerignore`;
  let text: string;
  if (has(nodePath.dirname(specific), nodePath.basename(specific))) text = fs.read(specific);
  else if (has(contextDir, '.dockerignore')) text = fs.read(nodePath.join(contextDir, '.dockerignore'));
  else return null;
  return { rules: ignore().add(text), reincludes: text.split(/\r\n|\n|\r/).some((l) => l.trim().startsWith('!')) };
}

/**
 * Lints every requirements/constraints file and pyproject.toml under contextDir (at most four
 * directories deep; .git, node_modules, __pycache__ and virtualenvs skipped; files the
 * .dockerignore excludes skipped: pins the build never reads are not its pins) and the Dockerfile
 * (sent to the builder whatever .dockerignore says). Files are named relative to contextDir when
 * inside it.
 */
export function lintContext(
  contextDir: string,
  dockerfile: string,
  packages: string[],
  planned: Planned,
  // Regular files only, bounded, links kept inside the context (files.ts).
  fs: FileSystem = contextFiles(contextDir, dockerfile, workspaceOf()),
): PinFinding[] {
  const findings: PinFinding[] = [];
  const ignored = ignoredFiles(contextDir, dockerfile, fs);
  const walk = (dir: string, rel: string, depth: number) => {
    const entries = [...fs.list(dir)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = nodePath.join(dir, e.name);
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.dir) {
        // An excluded directory is still walked when a ! rule may bring back a file inside it.
        const excluded = ignored !== null && !ignored.reincludes && ignored.rules.ignores(name);
        if (!SKIP_DIRS.has(e.name) && depth < MAX_DEPTH && !excluded) walk(full, name, depth + 1);
        continue;
      }
      if (ignored?.rules.ignores(name)) continue;
      const kind = kindOf(e.name, nodePath.basename(dir));
      if (kind === 'requirements') findings.push(...lintRequirements(fs.read(full), name, packages, planned));
      else if (kind === 'pyproject') findings.push(...lintPyproject(fs.read(full), name, packages, planned));
    }
  };
  walk(contextDir, '', 0);

  findings.push(...lintDockerfile(fs.read(dockerfile), shownDockerfile(contextDir, dockerfile), packages, planned));
  return findings;
}

/** How findings name the Dockerfile: relative to the context when inside it, else as given. */
function shownDockerfile(contextDir: string, dockerfile: string): string {
  const rel = nodePath.relative(nodePath.resolve(contextDir), nodePath.resolve(dockerfile));
  const inside = rel !== '' && !rel.startsWith('..') && !nodePath.isAbsolute(rel);
  return inside ? rel.split(nodePath.sep).join('/') : dockerfile;
}

/**
 * The path a finding's file was read from, from the name lintContext gave it. The only name that
 * is not relative to the context is the Dockerfile's (outside the context, as given); the other
 * files linted are requirements files and pyproject.toml, never named like a Dockerfile path.
 */
export function pathInContext(contextDir: string, dockerfile: string): (file: string) => string {
  const shown = shownDockerfile(contextDir, dockerfile);
  return (file) => (file === shown ? dockerfile : nodePath.join(contextDir, file));
}
