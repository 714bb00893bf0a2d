import * as fs from 'fs';
import * as path from 'path';
import type { Credentials } from '../adapters/registry/auth';
import { RegistryClient, sha256, type FetchedManifest } from '../adapters/registry/client';
import type { RetryPolicy } from '../adapters/registry/retry';
import type { Docker } from '../adapters/docker';
import { pushByDigestArgv, type SecretSource } from '../builder/argv';
import { PhaseError } from '../errors';
import { parseImageRef } from '../plan/image';
import type { Plan, PlatformPlan } from '../plan/plan';
import type { GivenDigest } from '../inputs';
import { annotationsFor } from '../plan/annotations';
import { manifestList, MEDIA, type PlatformManifest } from './manifest';
import { Progress } from './progress';
import { pushLocalImage, type PushedImage } from './push-image';
import { BlobKnowledge } from './reuse';
import { parseBuildMetadata, writePushConfig, type PushRoute } from './route';
import { moveTags, readTags, type TagBefore, type TagReport } from './tag-move';

/** How one platform image reached the registry. */
export interface PushSummary {
  via: 'buildkit' | 'streamed' | 'already-in-registry';
  digest: string;
  /** Layers of the image, and how many were uploaded, already there, or mounted. */
  layers: number;
  uploaded: number;
  reused: number;
  mounted: number;
  bytesRead: number;
  bytesSent: number;
  seconds: number;
  /** Reads of docker save it took (more than 1 when an upload failed half-way). */
  passes: number;
}

export interface Published {
  /** The manifest list (all, merge) or the platform image (platform mode). */
  digest: string;
  /** Fully qualified tags that name `digest` now. */
  tags: string[];
  platforms: Record<string, string>; // platform -> image manifest digest
  /** Every tag named `digest` at the end (trivially true in platform mode). */
  complete: boolean;
  /** Where each tag points now and what happened to it; empty in platform mode. */
  tagReport: TagReport[];
  pushes: Record<string, PushSummary>;
  error?: string;
}

/** What the publish phase works with, shared by every image of the run. */
export interface PublishEnv {
  docker: Docker;
  credentials?: Credentials;
  policy: RetryPolicy;
  signal?: AbortSignal;
  log: (s: string) => void;
  warn: (s: string) => void;
  store: 'classic' | 'containerd';
  route: PushRoute;
  level: number;
  /** For the buildx push's temporary Docker config (removed at once, and by the post step). */
  tempRoot: string;
  /** Told of every temporary directory made, so the post step removes it even after a kill. */
  onTempDir?: (dir: string) => void;
  /** Each registry's knowledge of which blob each layer became, shared by the run's images. */
  knowledge: Map<string, BlobKnowledge>;
  /** The build's secret files: the rebuild that pushes by digest may miss the cache and run the RUN that reads them. */
  secrets?: SecretSource[];
}

export function registryClient(
  env: Pick<PublishEnv, 'credentials' | 'policy' | 'signal' | 'log'>,
  image: { registry: string; repository: string },
  mountFrom: string[] = [],
): RegistryClient {
  return new RegistryClient({
    registry: image.registry,
    repository: image.repository,
    credentials: env.credentials,
    policy: env.policy,
    signal: env.signal,
    log: env.log,
    mountFrom,
  });
}

/** Other repositories of the image's registry blobs may be mounted from: `mount-from`, and the run's other images. */
export function mountSources(plan: Plan, all: Plan[], mountFrom: string[]): string[] {
  const repos = [...mountFrom.map((r) => parseImageRef(r, 'mount-from').image), ...all.map((p) => p.image)]
    .filter((i) => i.registry === plan.image.registry && i.repository !== plan.image.repository)
    .map((i) => i.repository);
  return [...new Set(repos)];
}

/**
 * Fails before anything is built or uploaded when the registry refuses the credentials, or they
 * may not push there. A token endpoint that is down is named as such, not blamed on the password.
 */
export async function checkLogin(client: RegistryClient, plan: Plan, creds: Credentials | undefined): Promise<void> {
  try {
    await client.checkPushAccess();
  } catch (e) {
    const blame = (e as { credentials?: boolean }).credentials
      ? ` Check 'registry-username' and 'registry-password' (for GHCR the job needs 'packages: write').`
      : ' The registry failed; the credentials were not judged.';
    throw new PhaseError(
      'publish',
      `registry login to ${plan.image.registry} as '${creds?.username ?? '(anonymous)'}' for ${plan.image.name} failed: ${(e as Error).message}.${blame} Nothing was built or pushed.`,
    );
  }
}

/**
 * Reads where the plan's tags point (the tag move needs it to put them back), and learns from
 * those images and from `mount-from` which blob each layer became.
 */
export async function prepareTags(env: PublishEnv, client: RegistryClient, plan: Plan, mountFrom: string[], learn = true): Promise<TagBefore[]> {
  let states: TagBefore[];
  try {
    states = await readTags(client, plan.tags);
  } catch (e) {
    throw new PhaseError('publish', `reading where the tags of ${plan.image.name} point now failed, so nothing was pushed: ${(e as Error).message}`);
  }
  if (!learn) return states;
  const knowledge = knowledgeFor(env, plan.image.registry);
  const archs = plan.platforms.map((p) => p.arch);
  for (const s of states) if (s.before) await knowledge.learn(client, s.before, archs, env.warn);
  for (const ref of mountFrom) {
    const { image: img, reference: tag } = parseImageRef(ref, 'mount-from');
    if (img.registry !== plan.image.registry) continue;
    const other = registryClient(env, img);
    let fetched: FetchedManifest | undefined;
    try {
      fetched = await other.getManifest(tag);
    } catch (e) {
      env.warn(`mount-from ${ref}: ${(e as Error).message}`);
    }
    if (fetched) await knowledge.learn(other, fetched, archs, env.warn);
  }
  if (knowledge.size) env.log(`${plan.image.name}: ${knowledge.size} published layer(s) known by their uncompressed digest, for reuse`);
  return states;
}

function knowledgeFor(env: PublishEnv, registry: string): BlobKnowledge {
  let k = env.knowledge.get(registry);
  if (!k) env.knowledge.set(registry, (k = new BlobKnowledge()));
  return k;
}

/**
 * BuildKit pushes the platform by digest from its cache; the result counts only if the registry's
 * manifest names the verified config. Any failure returns undefined: the caller streams instead.
 */
async function pushViaBuildkit(
  env: PublishEnv,
  client: RegistryClient,
  plan: Plan,
  p: PlatformPlan,
  verifiedId: string,
): Promise<{ summary: PushSummary; manifest: { digest: string; size: number; mediaType: string } } | undefined> {
  const t0 = Date.now();
  const dir = writePushConfig(env.tempRoot, plan.image.registry, env.credentials);
  env.onTempDir?.(dir);
  try {
    const meta = path.join(dir, 'metadata.json');
    const r = await env.docker.exec(pushByDigestArgv(plan, p, plan.inputs, meta, env.secrets ?? []), { stream: true, env: { DOCKER_CONFIG: dir } });
    if (r.code !== 0) throw new Error(`buildx push by digest failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    const { digest } = parseBuildMetadata(fs.readFileSync(meta, 'utf8'));
    const m = await client.getManifest(digest);
    if (!m) throw new Error(`the registry has no manifest ${digest} after the buildx push`);
    if (m.json.config?.digest !== verifiedId)
      throw new Error(`BuildKit pushed config ${m.json.config?.digest}, not the verified image ${verifiedId} (the build cache no longer gives the same image)`);
    return {
      summary: {
        via: 'buildkit',
        digest,
        layers: m.json.layers?.length ?? 0,
        uploaded: 0,
        reused: 0,
        mounted: 0,
        bytesRead: 0,
        bytesSent: 0,
        seconds: (Date.now() - t0) / 1000,
        passes: 0,
      },
      manifest: { digest, size: m.body.length, mediaType: m.mediaType || MEDIA.dockerManifest },
    };
  } catch (e) {
    env.warn(`${p.platform}: ${(e as Error).message}; pushing the verified image from the engine instead`);
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pushes each verified platform image by digest (no tag). The local tag must still name the
 * verified image, and what reaches the registry must be it: its config digest (classic store)
 * or its manifest digest (containerd store) is the image ID the build gave.
 */
export async function pushPlatforms(
  env: PublishEnv,
  client: RegistryClient,
  plan: Plan,
  verifiedIds: Map<string, string>,
  pushes: Record<string, PushSummary>,
): Promise<PlatformManifest[]> {
  const out: PlatformManifest[] = [];
  const progress = new Progress(env.log);
  try {
    for (const p of plan.platforms) {
      if (env.signal?.aborted) throw new PhaseError('publish', 'cancelled');
      const verified = verifiedIds.get(p.platform);
      const local = await env.docker.inspectImage(p.ref).catch((e: Error) => {
        throw new PhaseError('publish', `${p.platform}: the verified image ${p.ref} is gone from the engine (${e.message}); nothing was tagged`);
      });
      if (!verified || local.id !== verified) {
        throw new PhaseError('publish', `${p.platform}: ${p.ref} now names ${local.id}, not the verified image ${verified ?? '(unknown)'}; nothing was tagged`);
      }
      const label = `${plan.name === 'default' ? '' : `${plan.name} `}${p.platform}`;
      const viaBuildkit = env.route.via === 'buildkit' ? await pushViaBuildkit(env, client, plan, p, verified) : undefined;
      let summary = viaBuildkit?.summary;
      let manifest = viaBuildkit?.manifest;
      if (!summary || !manifest) {
        const pushed: PushedImage = await pushLocalImage(
          {
            docker: env.docker,
            client,
            knowledge: knowledgeFor(env, plan.image.registry),
            store: env.store,
            label,
            progress,
            log: env.log,
            level: env.level,
            annotations: annotationsFor(plan.annotations, 'manifest', p.platform),
          },
          { ref: p.ref, ...local },
        );
        if (env.store === 'classic' && pushed.configDigest !== verified) {
          throw new PhaseError(
            'publish',
            `${p.platform}: the pushed image (config ${pushed.configDigest}) is not the verified one (${verified}); no tag was moved`,
          );
        }
        for (const l of pushed.learned) knowledgeFor(env, plan.image.registry).add(l.diffId, l.desc, client.repository);
        summary = { via: pushed.via, digest: pushed.digest, ...pushed.stats };
        manifest = pushed;
      }
      pushes[p.platform] = summary;
      env.log(`${p.platform}: ${plan.image.name}@${manifest.digest} (${summary.via})`);
      out.push({ digest: manifest.digest, size: manifest.size, mediaType: manifest.mediaType, os: 'linux', architecture: p.arch });
    }
  } finally {
    progress.stop();
  }
  return out;
}

/**
 * Merge mode's guard: every digest must be in this repository and be an image of the platform it
 * is given for, every expected platform exactly once. Returns the list entries.
 */
export async function checkGivenDigests(client: RegistryClient, plan: Plan, given: GivenDigest[]): Promise<PlatformManifest[]> {
  const want = plan.platforms.map((p) => p.platform);
  const seen = new Map<string, GivenDigest>();
  for (const g of given) {
    if (!want.includes(g.platform))
      throw new PhaseError('merge', `digest given for ${g.platform}, which is not among the platforms (${want.join(', ')}); no tag was moved`);
    if (seen.has(g.platform)) throw new PhaseError('merge', `${g.platform} is given twice (${seen.get(g.platform)!.digest} and ${g.digest}); no tag was moved`);
    if (g.image && g.image.toLowerCase() !== plan.image.name) {
      throw new PhaseError('merge', `${g.platform}: digest is from ${g.image}, not ${plan.image.name}; no tag was moved`);
    }
    seen.set(g.platform, g);
  }
  const missing = want.filter((p) => !seen.has(p));
  if (missing.length)
    throw new PhaseError('merge', `no digest for ${missing.join(', ')}: every platform's job must verify and push before the merge; no tag was moved`);

  const out: PlatformManifest[] = [];
  for (const p of plan.platforms) {
    const g = seen.get(p.platform)!;
    let m: FetchedManifest | undefined;
    try {
      m = await client.getManifest(g.digest);
    } catch (e) {
      throw new PhaseError('merge', `${p.platform}: reading ${g.digest} from ${plan.image.name} failed (${(e as Error).message}); no tag was moved`);
    }
    if (!m) throw new PhaseError('merge', `${p.platform}: ${g.digest} is not in ${plan.image.name}; no tag was moved`);
    if (m.json.manifests) throw new PhaseError('merge', `${p.platform}: ${g.digest} is a manifest list, not a platform image; no tag was moved`);
    if (!m.json.config) throw new PhaseError('merge', `${p.platform}: ${g.digest} has no image config (an artifact, not a platform image); no tag was moved`);
    const config = await client.blobJson<{ os?: string; architecture?: string }>(m.json.config.digest);
    if (config.os !== 'linux' || config.architecture !== p.arch) {
      throw new PhaseError('merge', `${p.platform}: ${g.digest} is an image for ${config.os}/${config.architecture}, not ${p.platform}; no tag was moved`);
    }
    out.push({ digest: g.digest, size: m.body.length, mediaType: m.mediaType || MEDIA.dockerManifest, os: 'linux', architecture: p.arch });
  }
  return out;
}

/**
 * Points every tag at one manifest list of the platform images: the only step that moves tags,
 * all or none (see tag-move.ts). Returns where every tag points, whatever happened.
 */
export async function tagManifestList(
  client: RegistryClient,
  plan: Plan,
  entries: PlatformManifest[],
  states: TagBefore[],
  pushes: Record<string, PushSummary>,
  log: (s: string) => void,
): Promise<Published> {
  // `index` annotations on the list, `manifest-descriptor` ones on each platform's entry.
  const annotated = entries.map((e) => ({ ...e, annotations: annotationsFor(plan.annotations, 'manifest-descriptor', `${e.os}/${e.architecture}`) }));
  const text = manifestList(annotated, annotationsFor(plan.annotations, 'index'));
  const body = Buffer.from(text);
  const digest = sha256(body);
  const mediaType = (JSON.parse(text) as { mediaType: string }).mediaType;
  const result = await moveTags(client.uncancellable(), states, { digest, mediaType, body }, log);
  const platforms: Record<string, string> = {};
  entries.forEach((e) => (platforms[`${e.os}/${e.architecture}`] = e.digest));
  const named = result.tags.filter((t) => t.now === digest).map((t) => `${plan.image.name}:${t.tag}`);
  return { digest, tags: named, platforms, complete: result.ok, tagReport: result.tags, pushes, ...(result.error ? { error: result.error.message } : {}) };
}
