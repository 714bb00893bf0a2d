import { InputError } from '../errors';

export interface ImageName {
  /** Full name as pushed, lowercased: registry/repository. */
  name: string;
  registry: string; // host[:port]; docker.io when the name has none
  repository: string; // path inside the registry
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$/;

/**
 * Splits and validates an image name. Repository paths must be lowercase in every registry, and
 * GitHub owners often are not (ghcr.io/MyOrg/worker), so the name is lowercased, as GHCR expects.
 */
export function parseImage(raw: string): ImageName {
  const s = raw.trim().toLowerCase();
  if (!s) throw new InputError('image', 'is required: the image to build without a tag, for example ghcr.io/OWNER/worker');
  if (s.includes('@') || s.split('/').pop()!.includes(':')) {
    throw new InputError('image', `'${raw}' includes a tag or digest; give the name only and put tags in 'tags'`);
  }
  const first = s.split('/')[0];
  const hasHost = s.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  // Docker Hub has several spellings, and keeps official images under library/.
  const registry = !hasHost || first === 'index.docker.io' || first === 'registry-1.docker.io' ? 'docker.io' : first;
  let repository = hasHost ? s.slice(first.length + 1) : s;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if ((hasHost && !HOST_RE.test(registry)) || !PATH_RE.test(repository)) {
    throw new InputError('image', `'${raw}' is not a valid image name; expected [REGISTRY/]PATH with lowercase letters, digits and . _ - separators, for example ghcr.io/owner/worker`);
  }
  return { name: s, registry, repository };
}

/**
 * `REGISTRY/PATH[:TAG][@sha256:...]`: an image with the reference to read (`latest` when none).
 * For inputs that name published images, such as `mount-from`.
 */
export function parseImageRef(raw: string, input: string): { image: ImageName; reference: string } {
  const s = raw.trim();
  const at = /^(.*)@(sha256:[0-9a-f]{64})$/.exec(s);
  const rest = at ? at[1] : s;
  const tag = /^(.*\/[^/:]+|[^/:]+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(rest);
  const name = tag ? tag[1] : rest;
  try {
    return { image: parseImage(name), reference: at ? at[2] : tag ? tag[2] : 'latest' };
  } catch (e) {
    throw new InputError(input, `'${raw}' is not an image reference such as ghcr.io/owner/base:latest (${(e as Error).message.replace(/^Input 'image': /, '')})`);
  }
}
