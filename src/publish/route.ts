import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { basicHeader, type Credentials } from '../adapters/registry/auth';

/**
 * Which way a verified platform image reaches the registry. The one decision, kept pure so its
 * table is tested here even though no buildx can run on the test machines.
 *
 * - `stream` with the containerd image store: `docker save` streams the stored (compressed) blobs
 *   without a staging copy; they are uploaded as they are and the manifest named by the image ID
 *   is pushed unchanged, the strictest identity there is.
 * - `buildkit` with the classic store and a buildx builder that has its own BuildKit
 *   (docker-container, remote, kubernetes drivers): BuildKit pushes the image by digest from its
 *   build cache: nothing is saved, nothing staged. The pushed config must be the verified image's
 *   (the image ID); if it is not (the cache lost a layer and the rebuild differs), the verified
 *   image is streamed from the engine instead.
 * - `stream` otherwise (the engine's BuildKit, the buildx `docker` driver, which refuses
 *   push-by-digest): `docker save` is read as a stream and uploaded as it is read; the classic
 *   store stages a copy of the image in the engine's own temp dir while saving.
 */
export type PushRoute = { via: 'buildkit' | 'stream'; reason: string };

const BUILDKIT_DRIVERS = ['docker-container', 'remote', 'kubernetes'];

export function choosePushRoute(o: { buildx: boolean; driver: string; store: 'classic' | 'containerd' }): PushRoute {
  if (o.store === 'containerd') {
    return {
      via: 'stream',
      reason:
        'the containerd image store saves its blobs as stored: they are streamed to the registry as they are, without compression or a staging copy, and the pushed manifest is the verified image ID itself',
    };
  }
  if (o.buildx && BUILDKIT_DRIVERS.includes(o.driver)) {
    return {
      via: 'buildkit',
      reason: `the buildx builder (driver ${o.driver}) pushes by digest from its build cache: no docker save, no disk beyond the builder's cache`,
    };
  }
  const staging = "the classic image store stages a copy in the engine's temp dir while saving";
  if (o.buildx) return { via: 'stream', reason: `the buildx driver '${o.driver || 'unknown'}' cannot push by digest; streaming docker save (${staging})` };
  return { via: 'stream', reason: `no buildx plugin: the engine's BuildKit cannot push by digest; streaming docker save (${staging})` };
}

/** `containerimage.*` keys of buildx's --metadata-file. */
export function parseBuildMetadata(text: string): { digest: string; configDigest?: string } {
  const j = JSON.parse(text) as Record<string, unknown>;
  const digest = j['containerimage.digest'];
  const config = j['containerimage.config.digest'];
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error('buildx wrote no containerimage.digest to its metadata file');
  return { digest, ...(typeof config === 'string' ? { configDigest: config } : {}) };
}

/**
 * A Docker config dir for one buildx push: the user's config with this registry's login added,
 * and links to everything else in the user's dir (buildx keeps its builders there, so the
 * builder setup-buildx-action made is still the current one). Mode 0700, removed right after the
 * push and by the post step; the password never goes into argv.
 */
export function writePushConfig(parent: string, registry: string, creds: Credentials | undefined): string {
  const dir = fs.mkdtempSync(path.join(parent, 'mlib-docker-config-'));
  fs.chmodSync(dir, 0o700);
  const userDir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  // The fields this code changes; the rest of the user's config is written back as it was.
  let config: { auths?: Record<string, unknown>; credsStore?: string; credHelpers?: Record<string, string>; [key: string]: unknown } = {};
  try {
    config = JSON.parse(fs.readFileSync(path.join(userDir, 'config.json'), 'utf8')) as typeof config;
  } catch {
    // no config of the user's: start empty
  }
  if (creds) {
    const host = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
    config.auths = { ...(config.auths ?? {}), [host]: { auth: basicHeader(creds).slice('Basic '.length) } };
    // A credential store or helper would be asked instead of the login above.
    delete config.credsStore;
    if (config.credHelpers) delete config.credHelpers[host];
  }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  if (fs.existsSync(userDir)) {
    for (const name of fs.readdirSync(userDir)) if (name !== 'config.json') fs.symlinkSync(path.join(userDir, name), path.join(dir, name));
  }
  return dir;
}
