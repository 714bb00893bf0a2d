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
  throw new PhaseError('plan', `pin lint: ${findings.length} problem(s) with the pins of ${packages.join(', ')} (set 'pin-lint: warn' to build anyway):\n${formatFindings(findings)}`);
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
  for (const f of cacheBusters(text)) warn(`${plan.inputs.file}:${f.line}: ${f.problem}`, file ? { title: 'cache order', file, startLine: f.line } : { title: 'cache order' });
}
