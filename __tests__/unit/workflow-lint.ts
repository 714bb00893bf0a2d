/**
 * Checks of the GitHub workflows (.github/workflows/, workflows/) beyond what @actions/workflow-parser
 * checks: inputs passed to this action and to the reusable build workflow, `${{ }}` references
 * between jobs and steps, pinning of third-party actions, permissions and timeouts. Every lint
 * returns a list of problems (empty: clean), so a test can show that it fails on a broken file.
 */
import { buildSync } from 'esbuild';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------
// The validator: @actions/workflow-parser (GitHub's own workflow schema and expression checks)
// ---------------------------------------------------------------------------------------------

interface FileReference {
  path: string;
  owner?: string;
  repository?: string;
  version?: string;
}
interface TemplateContext {
  errors: { getErrors(): { message: string }[] };
}
interface WorkflowParser {
  parseWorkflow(file: { name: string; content: string }, trace: unknown): { context: TemplateContext; value: unknown };
  convertWorkflowTemplate(
    context: TemplateContext,
    root: unknown,
    fileProvider?: { getFileContent(ref: FileReference): Promise<{ name: string; content: string }> },
    options?: { fetchReusableWorkflowDepth?: number },
  ): Promise<{ errors?: { Message: string }[] }>;
  NoOperationTraceWriter: new () => unknown;
}

let parser: WorkflowParser | undefined;

/**
 * The package is ESM only and imports its JSON schema without an import attribute, which Node
 * refuses, and Jest runs this project as CommonJS. So it is bundled in memory with esbuild (a
 * devDependency already, for dist/) into one CommonJS file, written to a temporary file and
 * required. No network: everything comes from node_modules.
 */
export function workflowParser(): WorkflowParser {
  parser ??= requireBundled<WorkflowParser>("export { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } from '@actions/workflow-parser';");
  return parser;
}

/**
 * An ESM-only package's exports as CommonJS: bundled in memory by esbuild, written to a temporary
 * file, required. Not jest's .mjs transformer (scripts/jest-esm.js, for toml-eslint-parser): these
 * packages export only an `import` condition, which jest's CommonJS resolution never matches.
 */
function requireBundled<T>(contents: string): T {
  const out = buildSync({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-bundled-')), 'bundle.js');
  fs.writeFileSync(file, out.outputFiles[0].text);
  try {
    return require(file) as T;
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

interface ExpressionsLib {
  Lexer: new (input: string) => { lex(): { tokens: unknown[] } };
  Parser: new (tokens: unknown[], contexts: string[], functions: unknown[]) => { parse(): unknown };
  Evaluator: new (expr: unknown, context: unknown, functions?: Map<string, unknown>) => { evaluate(): unknown };
  data: { reviver: (key: string, value: unknown) => unknown; BooleanData: new (v: boolean) => unknown };
  truthy: (d: unknown) => boolean;
}
let expressions: ExpressionsLib | undefined;
const expressionsLib = (): ExpressionsLib =>
  (expressions ??= requireBundled<ExpressionsLib>(
    "export { Lexer, Parser, Evaluator, data } from '@actions/expressions'; export { truthy } from '@actions/expressions/result';",
  ));

/** What the status functions of a job's `if:` answer: how the jobs it needs ended, and whether the run was cancelled. */
export type RunStatus = 'success' | 'failure' | 'cancelled';

/**
 * One expression body (no `${{ }}`) evaluated by GitHub's own evaluator (@actions/expressions).
 * The status functions (success(), failure(), cancelled(), always()) are the runner's, not the
 * package's: they are supplied here from `status`.
 */
function evaluateData(expression: string, contexts: Record<string, unknown>, status: RunStatus = 'success'): { coerceString(): string } {
  const lib = expressionsLib();
  const answer = { success: status === 'success', failure: status === 'failure', cancelled: status === 'cancelled', always: true };
  const functions = Object.entries(answer).map(([name, v]) => ({ name, minArgs: 0, maxArgs: 0, call: () => new lib.data.BooleanData(v) }));
  const ast = new lib.Parser(new lib.Lexer(expression).lex().tokens, Object.keys(contexts), functions).parse();
  return new lib.Evaluator(ast, JSON.parse(JSON.stringify(contexts), lib.data.reviver), new Map(functions.map((f) => [f.name, f]))).evaluate() as {
    coerceString(): string;
  };
}

/**
 * Evaluates a workflow `if:` (or any expression, without `${{ }}`) against sample contexts with
 * GitHub's own evaluator (@actions/expressions), so a test checks what a condition does, not how
 * it is written.
 */
export function evaluateIf(expression: string, contexts: Record<string, unknown>, status: RunStatus = 'success'): boolean {
  const expr = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  return expressionsLib().truthy(evaluateData(expr, contexts, status));
}

/**
 * A workflow value as the runner hands it to an action input or an env variable: every `${{ }}`
 * replaced by its result as a string (null and a missing property give ''), the rest kept.
 * Every context the value names must be in `contexts` (the parser refuses unknown ones).
 */
export function evaluateValue(value: Scalar | undefined, contexts: Record<string, unknown>): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') return String(value);
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, body: string) => evaluateData(body, contexts).coerceString());
}

/** `uses:` of the reusable build workflow, local or by repository. */
export const BUILD_WORKFLOW_USES = /^(?:\.\/\.github\/workflows\/build\.yml|ml-image-build\/ml-image-build\/\.github\/workflows\/build\.yml@\S+)$/;
/** `uses:` of this action: `./` (the project's own CI) or the published action. */
export const THIS_ACTION_USES = /^(?:\.\/?|ml-image-build\/ml-image-build@\S+)$/;

/**
 * The validator's errors for one workflow, empty when valid. Reusable workflow calls are loaded
 * from `reusable` (path in this repository -> content), so the validator also checks the inputs
 * and secrets of calls; any other reusable workflow is an error ("Unable to find ...").
 */
export async function validateWorkflow(name: string, content: string, reusable: Record<string, string> = {}): Promise<string[]> {
  const p = workflowParser();
  const parsed = p.parseWorkflow({ name, content }, new p.NoOperationTraceWriter());
  if (!parsed.value) return parsed.context.errors.getErrors().map((e) => e.message);
  const provider = {
    async getFileContent(ref: FileReference) {
      const ours = ref.repository === undefined || (ref.owner === 'ml-image-build' && ref.repository === 'ml-image-build');
      const text = ours ? reusable[ref.path] : undefined;
      if (text === undefined) throw new Error(`no reusable workflow ${JSON.stringify(ref)}`);
      return { name: ref.path, content: text };
    },
  };
  const template = await p.convertWorkflowTemplate(parsed.context, parsed.value, provider, { fetchReusableWorkflowDepth: 1 });
  return (template.errors ?? []).map((e) => e.Message);
}

/**
 * The NAME=value and NAME<<DELIMITER ... DELIMITER lines a step appends to $GITHUB_OUTPUT or
 * $GITHUB_ENV (the runner's own file format, which no package reads), so a test that runs a
 * step's script can read back what the next steps would see.
 */
export function readCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`${heredoc[1]}: no closing ${heredoc[2]}`);
      out[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Workflow model (what js-yaml gives; only the parts the lints read)
// ---------------------------------------------------------------------------------------------

export type Scalar = string | number | boolean | null;
export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: Scalar;
  with?: Record<string, Scalar>;
  [key: string]: unknown;
}
export interface Job {
  needs?: string | string[];
  uses?: string;
  with?: Record<string, Scalar>;
  secrets?: 'inherit' | Record<string, Scalar>;
  steps?: Step[];
  outputs?: Record<string, string>;
  env?: Record<string, Scalar>;
  permissions?: unknown;
  [key: string]: unknown;
}
export interface Workflow {
  on?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}

export interface ActionMeta {
  inputs: Record<string, { required?: boolean; default?: unknown } | null>;
  outputs: Record<string, unknown>;
}

export interface ReusableMeta {
  inputs: Record<string, { type: 'string' | 'number' | 'boolean'; required?: boolean; default?: unknown }>;
  secrets: Record<string, { required?: boolean } | null>;
  outputs: Record<string, { value: string }>;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parsed as GitHub parses workflows (@actions/workflow-parser reads them with this same `yaml`
 * package): aliases resolved, and a merge key `<<` left as a plain key, since GitHub has no merge
 * keys. js-yaml would merge it, and a lint would then check a mapping GitHub never sees.
 */
export function loadYaml<T>(text: string): T {
  return parseYaml(text, { merge: false }) as T;
}

export function loadAction(file = path.join(ROOT, 'action.yml')): ActionMeta {
  const doc = loadYaml<Partial<ActionMeta>>(fs.readFileSync(file, 'utf8'));
  return { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} };
}

/** on.workflow_call of a reusable workflow. */
export function reusableMeta(wf: Workflow): ReusableMeta {
  const call = isMap(wf.on) && isMap(wf.on.workflow_call) ? wf.on.workflow_call : {};
  return {
    inputs: (call.inputs ?? {}) as ReusableMeta['inputs'],
    secrets: (call.secrets ?? {}) as ReusableMeta['secrets'],
    outputs: (call.outputs ?? {}) as ReusableMeta['outputs'],
  };
}

export function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

const stepName = (step: Step, i: number) => (step.id ? `step '${step.id}'` : step.name ? `step ${i + 1} ('${step.name}')` : `step ${i + 1}`);

export const isExpression = (v: unknown): boolean => typeof v === 'string' && v.includes('${{');

// ---------------------------------------------------------------------------------------------
// `${{ }}` reference scanner
// ---------------------------------------------------------------------------------------------

/** A `needs.X...`, `steps.X...` or `jobs.X...` reference in an expression. */
export interface Ref {
  context: 'needs' | 'steps' | 'jobs';
  name: string;
  /** 'outputs', 'result', 'outcome', ... or undefined for `needs.X` alone. */
  property?: string;
  /** The output name when property is 'outputs'. */
  output?: string;
}

/** The bodies of the `${{ }}` expressions in a string; an `if:` value without `${{` is one expression. */
export function expressionsIn(value: string, isIf = false): string[] {
  const bodies = [...value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]);
  if (bodies.length === 0 && isIf) return [value];
  return bodies;
}

/** References in one expression body, string literals ('...') left out. */
export function refsIn(expression: string): Ref[] {
  const code = expression.replace(/'(?:[^']|'')*'/g, "''");
  const refs: Ref[] = [];
  const re = /(?<![\w.-])(needs|steps|jobs)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?)?/g;
  for (const m of code.matchAll(re)) {
    refs.push({ context: m[1] as Ref['context'], name: m[2], property: m[3], output: m[3] === 'outputs' ? m[4] : undefined });
  }
  return refs;
}

/** Every string under a node, with the key it sits under (to know `if:` values). */
function stringsUnder(node: unknown, key = ''): { value: string; key: string }[] {
  if (typeof node === 'string') return [{ value: node, key }];
  if (Array.isArray(node)) return node.flatMap((v) => stringsUnder(v, key));
  if (isMap(node)) return Object.entries(node).flatMap(([k, v]) => stringsUnder(v, k));
  return [];
}

export function refsUnder(node: unknown): Ref[] {
  return stringsUnder(node).flatMap(({ value, key }) => expressionsIn(value, key === 'if').flatMap(refsIn));
}

// ---------------------------------------------------------------------------------------------
// Lints
// ---------------------------------------------------------------------------------------------

export function actionSteps(wf: Workflow): { job: string; index: number; step: Step }[] {
  return Object.entries(wf.jobs ?? {}).flatMap(([job, j]) =>
    (j.steps ?? []).map((step, index) => ({ job, index, step })).filter(({ step }) => typeof step.uses === 'string' && THIS_ACTION_USES.test(step.uses)),
  );
}

/** Steps that use this action pass only inputs of action.yml, and every required one. */
export function lintActionSteps(wf: Workflow, action: ActionMeta): string[] {
  const problems: string[] = [];
  for (const { job, index, step } of actionSteps(wf)) {
    const where = `job '${job}' ${stepName(step, index)}`;
    const given = step.with ?? {};
    for (const name of Object.keys(given)) {
      if (!(name in action.inputs)) problems.push(`${where}: input '${name}' is not declared in action.yml`);
    }
    for (const [name, spec] of Object.entries(action.inputs)) {
      if (spec?.required && spec.default === undefined && !(name in given)) problems.push(`${where}: required input '${name}' is not given`);
    }
  }
  return problems;
}

export function reusableCalls(wf: Workflow): { job: string; call: Job }[] {
  return Object.entries(wf.jobs ?? {})
    .filter(([, j]) => typeof j.uses === 'string' && BUILD_WORKFLOW_USES.test(j.uses))
    .map(([job, call]) => ({ job, call }));
}

/**
 * Calls of the reusable build workflow pass only declared inputs, every required one, each of its
 * type (a literal of the declared type, or an expression), and only declared secrets (or inherit).
 * A string input must get a YAML string: an unquoted 2.10 is the number 2.1, `true` a boolean.
 */
export function lintReusableCalls(wf: Workflow, reusable: ReusableMeta): string[] {
  const problems: string[] = [];
  for (const { job, call } of reusableCalls(wf)) {
    const where = `job '${job}' (${call.uses})`;
    const given = call.with ?? {};
    for (const [name, value] of Object.entries(given)) {
      const spec = reusable.inputs[name];
      if (!spec) {
        problems.push(`${where}: input '${name}' is not declared in on.workflow_call.inputs`);
        continue;
      }
      if (isExpression(value)) continue;
      if (typeof value !== spec.type)
        problems.push(`${where}: input '${name}' is a ${spec.type}; got ${JSON.stringify(value)} (${value === null ? 'null' : typeof value})`);
    }
    for (const [name, spec] of Object.entries(reusable.inputs)) {
      if (spec.required && !(name in given)) problems.push(`${where}: required input '${name}' is not given`);
    }
    if (call.secrets === 'inherit') continue;
    if (call.secrets !== undefined && !isMap(call.secrets)) {
      problems.push(`${where}: secrets must be a map or inherit`);
      continue;
    }
    const secrets = call.secrets ?? {};
    for (const name of Object.keys(secrets)) {
      if (!(name in reusable.secrets)) problems.push(`${where}: secret '${name}' is not declared in on.workflow_call.secrets`);
    }
    for (const [name, spec] of Object.entries(reusable.secrets)) {
      if (spec?.required && !(name in secrets)) problems.push(`${where}: required secret '${name}' is not given`);
    }
  }
  return problems;
}

/** The output names a `run` step writes: NAME=... or NAME<<DELIM (to $GITHUB_OUTPUT). */
function writesOutput(run: string, name: string): boolean {
  const n = name.replace(/[-]/g, '\\-');
  return new RegExp(`(^|[\\s"'{(])${n}(=|<<)`, 'm').test(run);
}

/**
 * References point at something that exists:
 * - `needs.J...`: J is in the job's needs; `needs.J.outputs.O`: J declares output O (a call of the
 *   build workflow: its on.workflow_call.outputs);
 * - `steps.S...`: S is the id of an EARLIER step of the same job (any step for jobs.<job>.outputs);
 *   `steps.S.outputs.O`: for this action, O is an output of action.yml; for a run step, the
 *   script writes O;
 * - `jobs.J.outputs.O` (on.workflow_call.outputs): job J exists and declares O.
 */
export function lintReferences(wf: Workflow, action: ActionMeta, reusable?: ReusableMeta): string[] {
  const problems: string[] = [];
  const jobs = wf.jobs ?? {};
  const jobOutputs = (name: string): string[] | undefined => {
    const j = jobs[name];
    if (!j) return undefined;
    if (typeof j.uses === 'string' && BUILD_WORKFLOW_USES.test(j.uses)) return reusable ? Object.keys(reusable.outputs) : undefined;
    return Object.keys(j.outputs ?? {});
  };

  const checkNeeds = (where: string, job: Job, refs: Ref[]) => {
    for (const r of refs.filter((x) => x.context === 'needs')) {
      if (!needsOf(job).includes(r.name)) {
        problems.push(`${where}: needs.${r.name} but '${r.name}' is not in this job's needs`);
        continue;
      }
      if (r.property === 'outputs') {
        const outs = jobOutputs(r.name);
        if (r.output === undefined) problems.push(`${where}: needs.${r.name}.outputs without an output name`);
        else if (outs && !outs.includes(r.output)) problems.push(`${where}: needs.${r.name}.outputs.${r.output}: job '${r.name}' has no output '${r.output}'`);
      } else if (r.property !== undefined && r.property !== 'result') {
        problems.push(`${where}: needs.${r.name}.${r.property}: only outputs and result exist`);
      }
    }
  };

  const checkStep = (where: string, steps: Step[], visible: number, r: Ref) => {
    const target = steps.findIndex((s) => s.id === r.name);
    if (target < 0) {
      problems.push(`${where}: steps.${r.name}: no step has id '${r.name}'`);
      return;
    }
    if (target >= visible) {
      problems.push(`${where}: steps.${r.name}: step '${r.name}' does not run before this point`);
      return;
    }
    if (r.property === 'outcome' || r.property === 'conclusion') return;
    if (r.property !== 'outputs' || r.output === undefined) {
      problems.push(`${where}: steps.${r.name}.${r.property ?? ''}: only outputs.NAME, outcome and conclusion exist`);
      return;
    }
    const s = steps[target];
    if (typeof s.uses === 'string' && THIS_ACTION_USES.test(s.uses)) {
      if (!(r.output in action.outputs)) problems.push(`${where}: steps.${r.name}.outputs.${r.output}: action.yml declares no output '${r.output}'`);
    } else if (typeof s.run === 'string' && !writesOutput(s.run, r.output)) {
      problems.push(`${where}: steps.${r.name}.outputs.${r.output}: step '${r.name}' never writes '${r.output}'`);
    }
  };

  for (const [name, job] of Object.entries(jobs)) {
    for (const n of needsOf(job)) if (!(n in jobs)) problems.push(`job '${name}': needs unknown job '${n}'`);
    const steps = job.steps ?? [];
    // Job-level keys (if, runs-on, strategy, with, outputs, ...): no steps context but in outputs.
    for (const [key, value] of Object.entries(job)) {
      if (key === 'steps') continue;
      const refs = refsUnder(key === 'if' ? { if: value } : value);
      checkNeeds(`job '${name}' ${key}`, job, refs);
      for (const r of refs.filter((x) => x.context === 'steps')) {
        if (key === 'outputs') checkStep(`job '${name}' outputs`, steps, steps.length, r);
        else problems.push(`job '${name}' ${key}: steps.${r.name} is not available at job level`);
      }
      for (const r of refs.filter((x) => x.context === 'jobs')) problems.push(`job '${name}' ${key}: jobs.${r.name} exists only in on.workflow_call.outputs`);
    }
    steps.forEach((step, i) => {
      const where = `job '${name}' ${stepName(step, i)}`;
      const refs = refsUnder(step);
      checkNeeds(where, job, refs);
      for (const r of refs.filter((x) => x.context === 'steps')) checkStep(where, steps, i, r);
      for (const r of refs.filter((x) => x.context === 'jobs')) problems.push(`${where}: jobs.${r.name} exists only in on.workflow_call.outputs`);
    });
  }

  const call = isMap(wf.on) && isMap(wf.on.workflow_call) ? wf.on.workflow_call : undefined;
  if (call && isMap(call.outputs)) {
    for (const [out, spec] of Object.entries(call.outputs)) {
      for (const r of refsUnder(spec)) {
        const where = `on.workflow_call.outputs.${out}`;
        if (r.context !== 'jobs') {
          problems.push(`${where}: ${r.context}.${r.name} is not available here (use jobs.JOB.outputs.NAME)`);
        } else if (!(r.name in jobs)) {
          problems.push(`${where}: jobs.${r.name}: no such job`);
        } else if (r.property !== 'outputs' || r.output === undefined) {
          problems.push(`${where}: jobs.${r.name}.${r.property ?? ''}: only outputs.NAME exists`);
        } else if (!(jobOutputs(r.name) ?? []).includes(r.output)) {
          problems.push(`${where}: jobs.${r.name}.outputs.${r.output}: job '${r.name}' declares no output '${r.output}'`);
        }
      }
    }
  }
  return problems;
}

/** `uses:` values in a workflow: steps' actions and jobs' reusable workflows. */
export function usesOf(wf: Workflow): string[] {
  return Object.values(wf.jobs ?? {}).flatMap((j) => [
    ...(typeof j.uses === 'string' ? [j.uses] : []),
    ...(j.steps ?? []).map((s) => s.uses).filter((u): u is string => typeof u === 'string'),
  ]);
}

export const isOwnReference = (uses: string): boolean => uses.startsWith('./') || uses === '.' || uses.startsWith('ml-image-build/ml-image-build');

/**
 * Every third-party action or workflow is pinned to a full commit SHA, with the release it is in
 * a `# vX.Y.Z` comment on the same line (for humans and for update bots).
 */
export function lintPins(wf: Workflow, raw: string): string[] {
  const problems: string[] = [];
  const lines = raw.split('\n');
  for (const uses of new Set(usesOf(wf))) {
    if (isOwnReference(uses)) continue;
    if (uses.startsWith('docker://')) {
      if (!/@sha256:[0-9a-f]{64}$/.test(uses)) problems.push(`${uses}: a docker:// image must be pinned by @sha256 digest`);
      continue;
    }
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses)) {
      problems.push(`${uses}: not pinned to a 40-hex commit SHA`);
      continue;
    }
    for (const line of lines.filter((l) => new RegExp(`uses:\\s*['"]?${uses.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\b`).test(l))) {
      if (!/#\s*v\d+\.\d+\.\d+\b/.test(line)) problems.push(`${uses}: no '# vX.Y.Z' comment on line '${line.trim()}'`);
    }
  }
  return problems;
}

/**
 * A with-value with `${{ env.NAME }}` read from the job's env where that holds a plain value (the
 * shared with-block of build.yml takes push and dry-run from each job's env); anything else as
 * written.
 */
function withValue(value: Scalar | undefined, job: Job | undefined): Scalar | undefined {
  const m = typeof value === 'string' ? /^\$\{\{\s*env\.([A-Za-z_][\w]*)\s*\}\}$/.exec(value) : null;
  const fromEnv = m ? job?.env?.[m[1]] : undefined;
  return fromEnv !== undefined && !isExpression(fromEnv) ? fromEnv : value;
}

/** A step of this action that can push: not a dry run, and push not 'false'. */
export function pushes(step: Step, job?: Job): boolean {
  const w = step.with ?? {};
  return String(withValue(w['dry-run'], job) ?? 'false') !== 'true' && String(withValue(w.push, job) ?? 'auto') !== 'false';
}

/**
 * Least privilege and bounded jobs: top-level permissions are {} or contents: read only; every
 * job with steps has timeout-minutes; `packages: write` is on exactly the jobs with a step of this
 * action that can push (reusable-workflow calls grant what the called workflow's jobs declare).
 */
export function lintHygiene(wf: Workflow): string[] {
  const problems: string[] = [];
  const top = wf.permissions;
  const topOk = isMap(top) && Object.entries(top).every(([k, v]) => k === 'contents' && v === 'read');
  if (!topOk) problems.push(`top-level permissions must be {} or {contents: read}; got ${JSON.stringify(top)}`);
  for (const [name, job] of Object.entries(wf.jobs ?? {})) {
    if (job.steps && job['timeout-minutes'] === undefined) problems.push(`job '${name}': no timeout-minutes`);
    if (!job.steps) continue;
    const writes = isMap(job.permissions) && job.permissions.packages === 'write';
    const push = job.steps.some((s) => typeof s.uses === 'string' && THIS_ACTION_USES.test(s.uses) && pushes(s, job));
    if (writes && !push) problems.push(`job '${name}': packages: write but no step of it pushes`);
    if (push && !writes) problems.push(`job '${name}': pushes but has no packages: write`);
  }
  return problems;
}
