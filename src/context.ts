import * as fs from 'fs';

/**
 * What the tag and label rules read from the event payload (GITHUB_EVENT_PATH). Every field is
 * optional: payloads differ by event (a schedule payload, for one, has no repository object) and
 * a value GitHub sends as null is left out rather than kept as null.
 */
export interface EventInfo {
  /** `pull_request.number`, or the payload's top-level `number` (pull_request events carry both). */
  prNumber?: number;
  /** `repository.name`: the repository name without its owner. */
  repositoryName?: string;
  /** `repository.description`. */
  description?: string;
  /** `repository.html_url`. */
  htmlUrl?: string;
  /** `repository.license.spdx_id`, as sent: may be 'NOASSERTION' (a license GitHub could not name). */
  license?: string;
}

/** The slice of the GitHub run environment the plan depends on. */
export interface RunContext {
  sha: string;
  ref: string;
  /** GITHUB_REF_NAME, or the ref without refs/heads/ or refs/tags/ when that is unset ('' when there is no ref). */
  refName: string;
  eventName: string;
  /** `repository.default_branch` from the event payload; undefined when the payload does not say. */
  defaultBranch: string | undefined;
  /** Pull request events only: the head (source) branch, GITHUB_HEAD_REF or `pull_request.head.ref`; '' otherwise. */
  headRef: string;
  /** Pull request events only: the base (target) branch, GITHUB_BASE_REF or `pull_request.base.ref`; '' otherwise. */
  baseRef: string;
  repository: string;
  serverUrl: string;
  runId: string;
  /**
   * Appended to the run's local image tags so that two runs on one engine (even two jobs of one
   * run on one self-hosted machine) never share one: run id, attempt and process id.
   */
  localTagSuffix?: string;
  actor: string;
  event: EventInfo;
}

/** The name a ref reads as in GITHUB_REF_NAME: refs/heads/x and refs/tags/x give x; refs/pull/42/merge gives 42/merge. */
export function refNameOf(ref: string): string {
  return ref.replace(/^refs\/(heads|tags|pull)\//, '');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

type JsonObject = Record<string, unknown>;

/** A JSON object, or an empty one for anything else: payload fields differ by event and may be absent or null. */
function obj(v: unknown): JsonObject {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
}

/** Reads the event payload; a missing, unreadable or malformed file reads as an empty payload. */
function readPayload(file: string | undefined): JsonObject {
  if (!file || !fs.existsSync(file)) return {};
  try {
    return obj(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  } catch {
    return {};
  }
}

/** Reads GITHUB_* from `env` and the event payload from GITHUB_EVENT_PATH; nothing else. */
export function readContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const repo = obj(payload.repository);
  const pr = obj(payload.pull_request);

  const event: EventInfo = {};
  const prNumber = positiveInt(pr.number) ?? positiveInt(payload.number);
  if (prNumber !== undefined) event.prNumber = prNumber;
  const fields: [keyof EventInfo, unknown][] = [
    ['repositoryName', repo.name],
    ['description', repo.description],
    ['htmlUrl', repo.html_url],
    ['license', obj(repo.license).spdx_id],
  ];
  for (const [key, value] of fields) {
    const s = str(value);
    if (s !== undefined) (event as Record<string, unknown>)[key] = s;
  }

  const ref = env.GITHUB_REF ?? '';
  return {
    sha: env.GITHUB_SHA ?? '',
    ref,
    refName: env.GITHUB_REF_NAME || refNameOf(ref),
    eventName: env.GITHUB_EVENT_NAME ?? '',
    // The default branch is only in the event payload; `latest` depends on it.
    defaultBranch: str(repo.default_branch),
    headRef: env.GITHUB_HEAD_REF || str(obj(pr.head).ref) || '',
    baseRef: env.GITHUB_BASE_REF || str(obj(pr.base).ref) || '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    runId: env.GITHUB_RUN_ID ?? String(process.pid),
    localTagSuffix: `run${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${process.pid}`,
    actor: env.GITHUB_ACTOR ?? '',
    event,
  };
}
