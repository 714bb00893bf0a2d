import type { Docker } from '../adapters/docker';
import { PhaseError } from '../errors';
import type { Plan } from '../plan/plan';
import { digestFromPushOutput, manifestList, MEDIA, sha256Digest, type PlatformManifest } from './manifest';
import { RegistryClient, type Credentials } from './registry';

export interface Published {
  digest: string;
  tags: string[];
  platforms: Record<string, string>; // platform -> image manifest digest
}

export async function login(docker: Docker, registry: string, creds: Credentials): Promise<void> {
  const r = await docker.exec(['login', registry, '--username', creds.username, '--password-stdin'], { input: creds.password });
  if (r.code !== 0) {
    throw new PhaseError('publish', `registry login to ${registry} as '${creds.username}' failed: ${r.stderr.trim().split('\n').pop()}. Check 'registry-username' and 'registry-password' (for GHCR the job needs 'packages: write'). Nothing was pushed.`);
  }
}

/**
 * Pushes each verified platform image, checks that what the registry now holds under each digest
 * is the platform it should be, then points every tag at one manifest list of those digests.
 * Called only after all platforms passed verification.
 */
export async function publish(docker: Docker, plan: Plan, creds: Credentials | undefined, log: (s: string) => void): Promise<Published> {
  const client = new RegistryClient(plan.image.registry, plan.image.repository, creds);
  const entries: PlatformManifest[] = [];
  const platforms: Record<string, string> = {};
  for (const p of plan.platforms) {
    const r = await docker.exec(['push', p.ref], { stream: true });
    if (r.code !== 0) throw new PhaseError('publish', `docker push ${p.ref} failed: ${r.stderr.trim().split('\n').pop()}`);
    const digest = digestFromPushOutput(r.stdout) ?? (await client.manifest(p.ref.split(':').pop()!)).digest;
    const m = await client.manifest(digest);
    const config = await client.blobJson(m.json.config.digest);
    if (config.architecture !== p.arch || config.os !== 'linux') {
      throw new PhaseError('publish', `${p.ref} (${digest}) is ${config.os}/${config.architecture} in the registry, not ${p.platform}; no tag was moved`);
    }
    entries.push({ digest, size: m.size, mediaType: m.mediaType || MEDIA.dockerManifest, os: 'linux', architecture: p.arch });
    platforms[p.platform] = digest;
    log(`${p.platform}: pushed ${p.ref} as ${digest}`);
  }
  const body = manifestList(entries);
  const digest = sha256Digest(body);
  for (const tag of plan.tags) {
    const got = await client.putManifest(tag, MEDIA.dockerList, body);
    if (got && got !== digest) throw new PhaseError('publish', `registry stored ${plan.image.name}:${tag} as ${got}, expected ${digest}`);
    log(`${plan.image.name}:${tag} -> ${digest}`);
  }
  return { digest, tags: plan.tags.map((t) => `${plan.image.name}:${t}`), platforms };
}
