import type { Docker } from '../adapters/docker';
import { PhaseError } from '../errors';
import type { Plan } from '../plan/plan';
import { manifestList, MEDIA, sha256Digest, type PlatformManifest } from './manifest';
import { RegistryClient, type Credentials } from './registry';
import { pushByDigest } from './upload';

export interface Published {
  digest: string;
  tags: string[];
  platforms: Record<string, string>; // platform -> image manifest digest
}

export function registryClient(plan: Plan, creds: Credentials | undefined): RegistryClient {
  return new RegistryClient(plan.image.registry, plan.image.repository, creds);
}

/** Fails before anything is uploaded when the registry refuses the credentials. */
export async function checkLogin(client: RegistryClient, plan: Plan, creds: Credentials | undefined): Promise<void> {
  try {
    await client.checkAccess();
  } catch (e) {
    throw new PhaseError(
      'publish',
      `registry login to ${plan.image.registry} as '${creds?.username ?? '(anonymous)'}' failed: ${(e as Error).message}. ` +
        `Check 'registry-username' and 'registry-password' (for GHCR the job needs 'packages: write'). Nothing was pushed.`,
    );
  }
}

/**
 * Pushes each verified platform image by digest (no tag), and checks that what was uploaded is
 * the image that was verified: its config digest must be the image ID the build produced.
 */
export async function pushPlatforms(docker: Docker, client: RegistryClient, plan: Plan, verifiedIds: Map<string, string>, workDir: string, log: (s: string) => void): Promise<PlatformManifest[]> {
  const out: PlatformManifest[] = [];
  for (const p of plan.platforms) {
    log(`${p.platform}: pushing ${p.ref} by digest`);
    const pushed = await pushByDigest(docker, client, p.ref, workDir, log);
    const verified = verifiedIds.get(p.platform);
    if (pushed.configDigest !== verified) {
      throw new PhaseError('publish', `${p.platform}: the pushed image (${pushed.configDigest}) is not the verified one (${verified ?? 'unknown'}); no tag was moved`);
    }
    log(`${p.platform}: ${plan.image.name}@${pushed.digest}`);
    out.push({ digest: pushed.digest, size: pushed.size, mediaType: pushed.mediaType, os: 'linux', architecture: p.arch });
  }
  return out;
}

/** A digest handed to merge mode: `sha256:...` or `IMAGE@sha256:...`. */
export interface GivenDigest {
  platform: string;
  digest: string;
  image?: string;
}

/**
 * Merge mode's guard: every digest must be in this repository and be an image of the platform it
 * is given for, every expected platform exactly once. Returns the list entries.
 */
export async function checkGivenDigests(client: RegistryClient, plan: Plan, given: GivenDigest[]): Promise<PlatformManifest[]> {
  const want = plan.platforms.map((p) => p.platform);
  const seen = new Map<string, GivenDigest>();
  for (const g of given) {
    if (!want.includes(g.platform)) throw new PhaseError('merge', `digest given for ${g.platform}, which is not among the platforms (${want.join(', ')}); no tag was moved`);
    if (seen.has(g.platform)) throw new PhaseError('merge', `${g.platform} is given twice (${seen.get(g.platform)!.digest} and ${g.digest}); no tag was moved`);
    if (g.image && g.image.toLowerCase() !== plan.image.name) {
      throw new PhaseError('merge', `${g.platform}: digest is from ${g.image}, not ${plan.image.name}; no tag was moved`);
    }
    seen.set(g.platform, g);
  }
  const missing = want.filter((p) => !seen.has(p));
  if (missing.length) throw new PhaseError('merge', `no digest for ${missing.join(', ')}: every platform's job must verify and push before the merge; no tag was moved`);

  const out: PlatformManifest[] = [];
  for (const p of plan.platforms) {
    const g = seen.get(p.platform)!;
    let m;
    try {
      m = await client.manifest(g.digest);
    } catch (e) {
      throw new PhaseError('merge', `${p.platform}: ${g.digest} is not in ${plan.image.name} (${(e as Error).message}); no tag was moved`);
    }
    if (m.json.manifests) throw new PhaseError('merge', `${p.platform}: ${g.digest} is a manifest list, not a platform image; no tag was moved`);
    const config = await client.blobJson(m.json.config.digest);
    if (config.os !== 'linux' || config.architecture !== p.arch) {
      throw new PhaseError('merge', `${p.platform}: ${g.digest} is an image for ${config.os}/${config.architecture}, not ${p.platform}; no tag was moved`);
    }
    out.push({ digest: g.digest, size: m.size, mediaType: m.mediaType || MEDIA.dockerManifest, os: 'linux', architecture: p.arch });
  }
  return out;
}

/** Points every tag at one manifest list of the platform images. The only step that moves tags. */
export async function tagManifestList(client: RegistryClient, plan: Plan, entries: PlatformManifest[], log: (s: string) => void): Promise<Published> {
  const body = manifestList(entries);
  const digest = sha256Digest(body);
  for (const tag of plan.tags) {
    const got = await client.putManifest(tag, MEDIA.dockerList, body);
    if (got && got !== digest) throw new PhaseError('publish', `registry stored ${plan.image.name}:${tag} as ${got}, expected ${digest}`);
    log(`${plan.image.name}:${tag} -> ${digest}`);
  }
  const platforms: Record<string, string> = {};
  entries.forEach((e) => (platforms[`${e.os}/${e.architecture}`] = e.digest));
  return { digest, tags: plan.tags.map((t) => `${plan.image.name}:${t}`), platforms };
}
