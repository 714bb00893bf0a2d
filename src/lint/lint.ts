import { PhaseError } from '../errors';
import type { Plan } from '../plan/plan';
import { inWorkspace, readRegularFile, workspaceOf } from '../files';
import { cacheBusters } from './cache-lint';
import { lintContext, pathInContext } from './context';
import { DEFAULT_PINNED, formatFindings, pinAnnotations, repositoryPath, type Annotation } from './findings';

/**
 * Pin lint for one planned image: reads the build context's requirements files, pyproject.toml
 * and the Dockerfile (the only file I/O of the plan phase), before any build. Each finding is one
 * annotation at its file and line (an error with pin-lint: error, else a warning); with
 * pin-lint: error the plan then fails with all of them.
 */
export function lintPlan(plan: Plan, annotate: (a: Annotation) => void): void {
  const inputs = plan.inputs;
  if (inputs.pinLint === 'off') return;
  const packages = inputs.pinnedPackages.length ? inputs.pinnedPackages : DEFAULT_PINNED;
  const planned: Record<string, string> = { torch: inputs.torchVersion, torchaudio: inputs.torchaudioVersion };
  if (inputs.torchvisionVersion) planned.torchvision = inputs.torchvisionVersion;
  const findings = lintContext(inputs.context, inputs.file, packages, planned);
  if (findings.length === 0) return;
  const where = { pathOf: pathInContext(inputs.context, inputs.file), workspace: workspaceOf(), cwd: process.cwd() };
  pinAnnotations(findings, inputs.pinLint, where).forEach(annotate);
  if (inputs.pinLint === 'warn') return;
  throw new PhaseError(
    'plan',
    `pin lint: ${findings.length} problem(s) with the pins of ${packages.join(', ')} (set 'pin-lint: warn' to build anyway):\n${formatFindings(findings)}`,
  );
}

/**
 * Warns (never fails) where the Dockerfile declares BUILD_TIME or BUILD_COMMIT before a RUN: every
 * build would redo that RUN and everything after it. The Dockerfile was checked before the plan
 * (a regular file of bounded size inside the workspace); one that cannot be read now is left to the build.
 */
export function lintCacheOrder(plan: Plan, warn: (message: string, properties: Annotation['properties']) => void): void {
  let text: string;
  try {
    text = readRegularFile(plan.inputs.file, inWorkspace('file', workspaceOf()));
  } catch {
    return;
  }
  const file = repositoryPath(plan.inputs.file, workspaceOf(), process.cwd());
  for (const f of cacheBusters(text))
    warn(`${plan.inputs.file}:${f.line}: ${f.problem}`, file ? { title: 'cache order', file, startLine: f.line } : { title: 'cache order' });
}

/** Words of a build arg name that mark a secret wherever they stand (API_TOKEN, DB_PASSWORD, CLIENT_SECRET). */
const SECRET_WORDS = ['TOKEN', 'PASSWORD', 'PASSWD', 'SECRET', 'CREDENTIAL', 'CREDENTIALS', 'APIKEY'];
/** Words that mark a secret only as the last word: API_KEY, NPM_AUTH; not KEY_ID, AUTH_URL or KEYRING. */
const SECRET_LAST_WORDS = ['KEY', 'AUTH'];
/** Last words of names that say where a secret is, what it is called or what it hashes to, not what it is (TOKEN_URL, SECRET_NAME, PASSWORD_FILE, SECRET_SHA). */
const NOT_SECRET_LAST_WORDS = [
  'URL',
  'URI',
  'PATH',
  'FILE',
  'DIR',
  'ENDPOINT',
  'HOST',
  'PORT',
  'NAME',
  'TYPE',
  'LENGTH',
  'SHA',
  'SHA256',
  'HASH',
  'DIGEST',
  'CHECKSUM',
];

/**
 * The user's build args whose name looks like a secret's. Names are cut into words at `_`, `-`
 * and lower-to-upper case changes (apiToken is API_TOKEN), and whole words are compared, so
 * TOKENIZERS_PARALLELISM, MAX_TOKENS, AUTHOR and KEY_ID are not taken for secrets; nor is a name
 * that ends in a word such as URL, FILE or NAME (HF_TOKEN_FILE names where a secret is).
 */
export function secretLikeBuildArgs(args: { name: string }[]): string[] {
  const names = new Set<string>();
  for (const { name } of args) {
    const words = name
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toUpperCase()
      .split(/[_-]+/)
      .filter(Boolean);
    const last = words[words.length - 1];
    if (NOT_SECRET_LAST_WORDS.includes(last)) continue;
    if (words.some((w) => SECRET_WORDS.includes(w)) || SECRET_LAST_WORDS.includes(last)) names.add(name);
  }
  return [...names];
}
