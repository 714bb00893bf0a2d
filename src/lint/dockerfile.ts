/** A Dockerfile's RUN instructions: the pip installs they run and the pins they name. */
import { DockerfileParser, Onbuild, Run } from 'dockerfile-ast';
import { byLine, type PinFinding, type Planned } from './findings';
import { judge, makeLint, parseRequirement, stripBom, type Lint, type Requirement, type Verdict } from './requirement';
import { commands, tokenize, type Ch, type Command, type Word } from './shell';

const PIP_GLOBAL_VALUE_OPTS = new Set([
  '--cache-dir',
  '--log',
  '--proxy',
  '--timeout',
  '--retries',
  '--exists-action',
  '--cert',
  '--client-cert',
  '--trusted-host',
  '--python',
  '--keyring-provider',
  '--use-feature',
  '--use-deprecated',
  '--directory',
  '--project',
  '--config-file',
  '--color',
]);
const PIP_INSTALL_VALUE_OPTS = new Set([
  '-r',
  '--requirement',
  '-c',
  '--constraint',
  '-i',
  '--index-url',
  '--extra-index-url',
  '-f',
  '--find-links',
  '-t',
  '--target',
  '--prefix',
  '--root',
  '--src',
  '--upgrade-strategy',
  '--platform',
  '--python-version',
  '--implementation',
  '--abi',
  '--only-binary',
  '--no-binary',
  '--progress-bar',
  '--global-option',
  '--install-option',
  '-C',
  '--config-settings',
  '--report',
  '--root-user-action',
  '--index',
  '--default-index',
  '--index-strategy',
  '--torch-backend',
  '--resolution',
  '--prerelease',
  '-p',
  '--python-platform',
  '--link-mode',
  '--exclude-newer',
  '--override',
  '--overrides',
  '-b',
  '--build-constraint',
  '--build-constraints',
  '--extra',
  '--group',
  '-P',
  '--upgrade-package',
  '--reinstall-package',
  '--refresh-package',
  '--no-build-isolation-package',
  ...PIP_GLOBAL_VALUE_OPTS,
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

/**
 * The RUN instructions (ONBUILD RUN too) as dockerfile-ast splits them: it knows the escape
 * directive, continuations, comment lines inside them, flags (--mount=...) and heredocs (<<EOT,
 * <<-EOT, several per instruction). What it lacks is the shell text with the line each character
 * came from (its arguments are split on white space, quotes ignored), so that is rebuilt here from
 * the instruction's lines: continuations and the comment lines inside them dropped.
 */
function runInstructions(text: string): Instruction[] {
  const source = stripBom(text);
  const dockerfile = DockerfileParser.parse(source);
  const lines = source.split(/\r\n|\n|\r/);
  const continuation = dockerfile.getEscapeCharacter() === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
  const out: Instruction[] = [];
  for (const top of dockerfile.getInstructions()) {
    const ins = top instanceof Onbuild ? top.getTriggerInstruction() : top;
    if (!(ins instanceof Run)) continue;
    const args = ins.getArguments();
    if (args.length === 0) continue;
    // Flags come before the first argument and are not shell.
    const from = args[0].getRange().start;
    const heredocs = ins.getHeredocs();
    const body = heredocs[0]?.getContentRange() ?? heredocs[0]?.getDelimiterRange();
    const last = body ? body.start.line - 1 : ins.getRange().end.line;

    const header: Ch[] = [];
    /** Offset in header of each (line, character) the header keeps, to find where a heredoc starts. */
    const offsets = new Map<string, number>();
    for (let l = from.line; l <= last; l++) {
      const raw = lines[l] ?? '';
      if (l > from.line && (raw.trim() === '' || raw.trim().startsWith('#'))) continue;
      const cont = continuation.exec(raw);
      const end = cont ? cont.index : raw.length;
      for (let c = l === from.line ? from.character : 0; c < end; c++) {
        offsets.set(`${l}:${c}`, header.length);
        header.push({ c: raw[c], line: l + 1 });
      }
    }
    const headerText = header.map((x) => x.c).join('');

    // A heredoc is this RUN's shell script for RUN <<EOF and RUN sh <<EOF; otherwise
    // (python3 <<EOF, cat > f <<EOF) it is data.
    const script: Ch[] = [...header];
    const first = heredocs[0];
    const content = first?.getContentRange();
    if (first && content) {
      const start = first.getStartRange().start;
      const before = headerText.slice(0, offsets.get(`${start.line}:${start.character}`) ?? 0).trim();
      if (before === '' || /^(?:\S*\/)?(?:sh|bash|dash|ash)(?:\s+-[a-z]+)*$/.test(before)) {
        script.push({ c: '\n', line: from.line + 1 });
        for (let l = content.start.line; l <= content.end.line; l++) {
          for (const c of lines[l] ?? '') script.push({ c, line: l + 1 });
          script.push({ c: '\n', line: l + 1 });
        }
      }
    }
    out.push({ chars: script, exec: execForm(ins, headerText, from.line + 1) });
  }
  return out;
}

/** RUN ["pip", "install", ...]: its words with their lines, when the text is a JSON array of strings (else shell). */
function execForm(ins: Run, headerText: string, startLine: number): Word[] | null {
  if (!headerText.trim().startsWith('[')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerText);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) return null;
  const strings = ins.getJSONStrings();
  return parsed.map((v, k) => ({
    op: false,
    v,
    line: strings.length === parsed.length ? strings[k].getRange().start.line + 1 : startLine,
    redirect: -1,
  }));
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
