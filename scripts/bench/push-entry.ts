// The action's publish path for one local image, as `npm run bench` runs it in a child process of
// its own (so its memory and CPU are its own): the same functions main.ts calls after
// verification (login check, reading the tags, streamed push by digest, tag move), without the
// build and verify phases. Arguments: IMAGE_REF REGISTRY_HOST REPOSITORY TAG; credentials in
// BENCH_USER / BENCH_PASSWORD. Prints one JSON line.
import '../../src/threads';
import { Docker } from '../../src/adapters/docker';
import { policyFromEnv } from '../../src/adapters/registry/retry';
import type { Plan } from '../../src/plan/plan';
import { checkLogin, pushPlatforms, prepareTags, registryClient, tagManifestList, type PublishEnv, type PushSummary } from '../../src/publish/publish';
import { choosePushRoute } from '../../src/publish/route';

async function main(): Promise<void> {
  const [ref, host, repository, tag] = process.argv.slice(2);
  const t0 = Date.now();
  const docker = new Docker(process.env.BENCH_DOCKER || 'docker');
  const local = await docker.inspectImage(ref);
  const store = await docker.imageStore();
  const credentials = { username: process.env.BENCH_USER ?? '', password: process.env.BENCH_PASSWORD ?? '' };
  const log = process.env.BENCH_VERBOSE ? (s: string) => console.error(s) : () => undefined;
  const env: PublishEnv = {
    docker,
    credentials,
    policy: policyFromEnv(process.env),
    log,
    warn: (s) => console.error(`warning: ${s}`),
    store,
    route: choosePushRoute({ buildx: false, driver: '', store }),
    level: Number(process.env.BENCH_LEVEL || 6),
    tempRoot: process.env.RUNNER_TEMP || '/tmp',
    knowledge: new Map(),
  };
  const plan = {
    name: 'default',
    image: { name: `${host}/${repository}`, registry: host, repository },
    tags: [tag],
    // No annotations: the same manifests `docker push` writes, so the two are compared like for like.
    annotations: [],
    platforms: [{ platform: `linux/${local.architecture}`, arch: local.architecture, ref }],
  } as unknown as Plan;
  const client = registryClient(env, plan.image);
  await checkLogin(client, plan, credentials);
  const states = await prepareTags(env, client, plan, []);
  const pushes: Record<string, PushSummary> = {};
  const entries = await pushPlatforms(env, client, plan, new Map([[`linux/${local.architecture}`, local.id]]), pushes);
  const published = await tagManifestList(client, plan, entries, states, pushes, log);
  if (!published.complete) throw new Error(`tags not moved: ${published.error}`);
  const usage = process.resourceUsage();
  console.log(
    JSON.stringify({
      seconds: (Date.now() - t0) / 1000,
      maxRssKb: usage.maxRSS,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      push: Object.values(pushes)[0],
      digest: published.digest,
    }),
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
