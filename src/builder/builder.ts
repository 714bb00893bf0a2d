/**
 * Which builder runs the build. The buildx plugin is preferred. Without it, only a Docker CLI
 * older than 23 can reach the engine's BuildKit (`DOCKER_BUILDKIT=1 docker build`); newer CLIs
 * delegate BuildKit builds to buildx and would fail at the first build, so say it up front.
 * Returns a reason the build cannot run, or undefined when it can.
 */
export function builderProblem(hasBuildx: boolean, clientVersion: string): string | undefined {
  if (hasBuildx) return undefined;
  const major = Number(/^(\d+)\./.exec(clientVersion)?.[1] ?? NaN);
  if (Number.isNaN(major) || major < 23) return undefined;
  return (
    `the docker CLI on PATH (${clientVersion}) builds with BuildKit only through the buildx plugin, which is not installed. ` +
    `Add docker/setup-buildx-action before this step, install docker-buildx-plugin, or put a Docker CLI older than 23 (BuildKit built in) first on PATH.`
  );
}
