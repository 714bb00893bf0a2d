/** A Dockerfile's RUN instructions: the pip installs they run and the pins they name. */
import { byLine, type PinFinding, type Planned } from './findings';
import { judge, makeLint, parseRequirement, stripBom, type Lint, type Requirement, type Verdict } from './requirement';
import { commands, tokenize, type Ch, type Command, type Word } from './shell';

const PIP_GLOBAL_VALUE_OPTS = new Set(['--cache-dir', '--log', '--proxy', '--timeout', '--retries', '--exists-action', '--cert', '--client-cert', '--trusted-host', '--python', '--keyring-provider', '--use-feature', '--use-deprecated', '--directory', '--project', '--config-file', '--color']);
const PIP_INSTALL_VALUE_OPTS = new Set([
  '-r', '--requirement', '-c', '--constraint', '-i', '--index-url', '--extra-index-url', '-f', '--find-links', '-t', '--target',
  '--prefix', '--root', '--src', '--upgrade-strategy', '--platform', '--python-version', '--implementation', '--abi',
  '--only-binary', '--no-binary', '--progress-bar', '--global-option', '--install-option', '-C', '--config-settings',
  '--report', '--root-user-action', '--index', '--default-index', '--index-strategy', '--torch-backend', '--resolution',
  '--prerelease', '-p', '--python-platform', '--link-mode', '--exclude-newer', '--override', '--overrides', '-b',
  '--build-constraint', '--build-constraints', '--extra', '--group', '-P', '--upgrade-package', '--reinstall-package',
  '--refresh-package', '--no-build-isolation-package', ...PIP_GLOBAL_VALUE_OPTS,
]);
const INDEX_OPTS = new Set(['-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--index', '--default-index']);

const basename = (w: string) => w.replace(/^.*\//, '');

/** Offset of the first install argument when the command is a pip install, else -1. */
function pipInstallStart(words: Word[]): number {
  let k = 0;
  const v = (i: number) => (i < words.length ? words[i].v : '');
  const skipOptions = (values: Set<string>) => {
    while (k < words.length && v(k).startsWith('-') && v(k) !== '-m' && !v(k).startsWith('-m')) {
      k += values.has(v(k)) ? 2 : 1;
    }
  };
  for (;;) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(v(k))) k++;
    else if (['sudo', 'env', 'time', 'exec', 'command', 'nice', 'nohup'].includes(basename(v(k)))) {
      k++;
      while (v(k).startsWith('-')) k++;
    } else break;
  }
  if (k >= words.length) return -1;
  const head = basename(v(k));
  if (/^pip[0-9.]*$/.test(head)) {
    k++;
  } else if (head === 'uv') {
    k++;
    skipOptions(PIP_GLOBAL_VALUE_OPTS);
    if (v(k) !== 'pip') return -1;
    k++;
  } else {
    // python3 -m pip, "$PYTHON" -m pip, python -mpip
    k++;
    while (k < words.length && v(k).startsWith('-') && v(k) !== '-m' && !/^-mpip$/.test(v(k))) k += ['-X', '-W'].includes(v(k)) ? 2 : 1;
    if (v(k) === '-m' && v(k + 1) === 'pip') k += 2;
    else if (v(k) === '-mpip') k++;
    else return -1;
  }
  skipOptions(PIP_GLOBAL_VALUE_OPTS);
  return v(k) === 'install' ? k + 1 : -1;
}

/** `sh -c "..."` and `bash -ec '...'`: the script argument, to be read as shell too. */
function shellScript(words: Word[]): Word | null {
  if (!/^(sh|bash|dash|ash|zsh)$/.test(basename(words[0]?.v ?? ''))) return null;
  for (let i = 1; i < words.length; i++) {
    if (/^-[a-z]*c[a-z]*$/.test(words[i].v)) return words[i + 1] ?? null;
    if (!words[i].v.startsWith('-')) return null;
  }
  return null;
}

interface Install {
  req: Requirement;
  verdict: Verdict;
  line: number;
  redirect: boolean;
}

function pipInstalls(words: Word[], start: number, lint: Lint): { installs: Install[]; index: string } {
  const installs: Install[] = [];
  const index: string[] = [];
  for (let k = start; k < words.length; k++) {
    const w = words[k];
    if (w.redirect === 0 || (w.redirect > 0 && /^[0-9&]+$/.test(w.v.slice(0, w.redirect)))) {
      // A redirection (> log, 2>&1, <<EOF): a bare operator takes the next word as its target.
      if (/^[0-9&]*[<>]+[&-]?$/.test(w.v)) k++;
      continue;
    }
    if (w.v.startsWith('-')) {
      const eq = w.v.indexOf('=');
      const opt = eq > 0 ? w.v.slice(0, eq) : w.v;
      if (opt === '-e' || opt === '--editable') {
        if (eq < 0) k++;
        const target = eq > 0 ? w.v.slice(eq + 1) : words[k]?.v;
        if (target !== undefined) consider(target, eq > 0 ? w : words[k]);
        continue;
      }
      if (INDEX_OPTS.has(opt)) index.push(eq > 0 ? w.v.slice(eq + 1) : (words[k + 1]?.v ?? ''));
      if (eq < 0 && PIP_INSTALL_VALUE_OPTS.has(opt)) k++;
      continue;
    }
    consider(w.v, w);
  }
  return { installs, index: index.join(' ') };

  function consider(text: string, w: Word): void {
    const req = parseRequirement(text);
    if (!req || !lint.wanted.has(req.norm)) return;
    installs.push({ req, verdict: judge(req, lint), line: w.line, redirect: w.redirect > 0 });
  }
}

interface Instruction {
  /** Shell text of the RUN, as characters with the physical line each came from. */
  chars: Ch[];
  /** The exec form, RUN ["pip", "install", ...]: its words, no shell. */
  exec: Word[] | null;
}

const HEREDOC_RE = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** RUN instructions with continuations joined, comment lines inside them dropped, and shell heredocs. */
function runInstructions(text: string): Instruction[] {
  const lines = stripBom(text).split(/\r\n|\n|\r/);
  let escape = '\\';
  for (const l of lines) {
    const d = /^#\s*([A-Za-z]+)\s*=\s*(\S*)\s*$/.exec(l);
    if (!d) break;
    if (d[1].toLowerCase() === 'escape' && (d[2] === '`' || d[2] === '\\')) escape = d[2];
  }
  const continuation = escape === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
  const out: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i].trim();
    if (first === '' || first.startsWith('#')) {
      i++;
      continue;
    }
    const startLine = i + 1;
    const chars: Ch[] = [];
    for (;;) {
      const raw = lines[i];
      const cont = continuation.exec(raw);
      const part = cont ? raw.slice(0, cont.index) : raw;
      for (const c of part) chars.push({ c, line: i + 1 });
      i++;
      if (!cont) break;
      while (i < lines.length && (lines[i].trim() === '' || lines[i].trim().startsWith('#'))) i++;
      if (i >= lines.length) break;
    }
    const joined = chars.map((x) => x.c).join('');
    const kw = /^\s*(?:ONBUILD\s+)?(RUN|COPY|ADD)(?:\s+|$)/i.exec(joined);
    if (!kw) continue;
    let body = chars.slice(kw[0].length);
    // Flags (--mount=..., --network=...) are not shell.
    const flags = /^(?:--[a-z-]+(?:=\S*)?\s+)*/.exec(body.map((x) => x.c).join(''));
    body = body.slice(flags ? flags[0].length : 0);
    const bodyText = body.map((x) => x.c).join('');
    const isRun = kw[1].toUpperCase() === 'RUN';

    // Heredocs (RUN, COPY, ADD): their lines follow the instruction. They are this RUN's shell script
    // for RUN <<EOF and RUN sh <<EOF; otherwise (python3 <<EOF, cat > f <<EOF, COPY) they are data.
    const script: Ch[] = [...body];
    [...bodyText.matchAll(HEREDOC_RE)].forEach((h, n) => {
      const doc: Ch[] = [];
      while (i < lines.length && (h[1] ? lines[i].replace(/^\t+/, '') : lines[i]).trim() !== h[3]) {
        for (const c of lines[i]) doc.push({ c, line: i + 1 });
        doc.push({ c: '\n', line: i + 1 });
        i++;
      }
      i++;
      const before = bodyText.slice(0, h.index).trim();
      if (isRun && n === 0 && (before === '' || /^(?:\S*\/)?(?:sh|bash|dash|ash)(?:\s+-[a-z]+)*$/.test(before))) {
        script.push({ c: '\n', line: startLine }, ...doc);
      }
    });
    if (!isRun) continue;

    let exec: Word[] | null = null;
    if (bodyText.trim().startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(bodyText);
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) {
          let from = 0;
          exec = (parsed as string[]).map((v) => {
            const at = bodyText.indexOf(JSON.stringify(v), from);
            if (at >= 0) from = at + 1;
            return { op: false, v, line: at >= 0 ? body[at].line : startLine, redirect: -1 };
          });
        }
      } catch {
        exec = null;
      }
    }
    out.push({ chars: script, exec });
  }
  return out;
}

interface EarlierPin {
  shown: string;
  version: string;
  index: string;
}

/** The problem with a pip install that runs only when an earlier one failed, or null for a plain retry. */
function fallbackProblem(ins: Install, earlier: EarlierPin, index: string): string | null {
  const what = `${ins.req.name} falls back to \`|| pip install ${ins.req.display}\` after \`${earlier.shown}\``;
  const silently = `if the pinned install fails, the build silently installs another ${ins.req.name}; drop the fallback so the build fails`;
  if (ins.verdict.kind !== 'exact') return `${what} without an exact pin: ${silently}`;
  if (ins.verdict.version !== earlier.version) return `${what}, another version: ${silently}`;
  if (index !== earlier.index) {
    return `${what} from another index (${index || 'the default index'} instead of ${earlier.index || 'the default index'}): ${silently}`;
  }
  return null;
}

function lintCommands(cmds: Command[], lint: Lint, findings: PinFinding[], pinned: Map<string, EarlierPin>): void {
  for (const cmd of cmds) {
    const script = shellScript(cmd.words);
    if (script) {
      const chars = [...script.v].map((c) => ({ c, line: script.line }));
      lintCommands(commands(tokenize(chars), cmd.fallback), lint, findings, pinned);
      continue;
    }
    const start = pipInstallStart(cmd.words);
    if (start < 0) continue;
    const { installs, index } = pipInstalls(cmd.words, start, lint);
    for (const ins of installs) {
      const earlier = pinned.get(ins.req.norm);
      let problem = ins.verdict.problem;
      if (cmd.fallback && earlier) problem = fallbackProblem(ins, earlier, index) ?? problem;
      if (problem && ins.redirect) {
        problem += `; unquoted, the shell reads the < or > as a redirection and pip installs plain ${ins.req.name}: quote it`;
      }
      if (problem) findings.push({ file: lint.file, line: ins.line, package: ins.req.name, problem });
      if (ins.verdict.kind === 'exact' && !earlier) {
        pinned.set(ins.req.norm, { shown: `pip install ${ins.req.display}`, version: ins.verdict.version, index });
      }
    }
  }
}

export function lintDockerfile(text: string, file: string, packages: string[], planned: Planned): PinFinding[] {
  const lint = makeLint(file, packages, planned);
  const findings: PinFinding[] = [];
  for (const run of runInstructions(text)) {
    const cmds = run.exec ? [{ words: run.exec, fallback: false }] : commands(tokenize(run.chars));
    lintCommands(cmds, lint, findings, new Map());
  }
  return byLine(findings);
}
