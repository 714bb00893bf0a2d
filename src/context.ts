import * as fs from 'fs';

/** The slice of the GitHub run environment the plan depends on. */
export interface RunContext {
  sha: string;
  ref: string;
  eventName: string;
  defaultBranch: string | undefined;
  repository: string;
  serverUrl: string;
  runId: string;
  actor: string;
}

export function readContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  let defaultBranch: string | undefined;
  // The default branch is only in the event payload; `latest` depends on it.
  if (env.GITHUB_EVENT_PATH && fs.existsSync(env.GITHUB_EVENT_PATH)) {
    try {
      const payload = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
      defaultBranch = payload?.repository?.default_branch;
    } catch {
      defaultBranch = undefined;
    }
  }
  return {
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    defaultBranch,
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    runId: env.GITHUB_RUN_ID ?? String(process.pid),
    actor: env.GITHUB_ACTOR ?? '',
  };
}
