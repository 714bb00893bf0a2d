import { InputError, shown } from '../errors';
import { MAX_IMAGE_NAME } from '../limits';

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
  // Before lowercasing: the Kelvin sign (U+212A) lowercases to k, and the name would not be the one given.
  const other = /[^\x20-\x7e]/u.exec(raw.trim())?.[0];
  if (other) {
    const code = `U+${other.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new InputError(
      'image',
      `${shown(raw)} holds the character ${code}; accepted: ASCII letters, digits and . _ - / : (for example ghcr.io/owner/worker)`,
    );
  }
  const s = raw.trim().toLowerCase();
  if (!s) throw new InputError('image', 'is required: the image to build without a tag, for example ghcr.io/OWNER/worker');
  if (s.length > MAX_IMAGE_NAME)
    throw new InputError(
      'image',
      `'${raw.slice(0, 60)}...' is ${s.length} characters; docker accepts image names (registry included) of at most ${MAX_IMAGE_NAME}`,
    );
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
    throw new InputError(
      'image',
      `'${raw}' is not a valid image name; expected [REGISTRY/]PATH with lowercase letters, digits and . _ - separators, for example ghcr.io/owner/worker`,
    );
  }
  if (hasHost) {
    const [host, port] = registry.split(':');
    if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) {
      throw new InputError('image', `'${raw}': the registry port ${port} is not a port; accepted: 1 to 65535`);
    }
    const long = host.split('.').find((label) => label.length > 63);
    if (long)
      throw new InputError('image', `'${raw}': the registry host name part '${long.slice(0, 20)}...' is ${long.length} characters; a DNS label is at most 63`);
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
    throw new InputError(
      input,
      `'${raw}' is not an image reference such as ghcr.io/owner/base:latest (${(e as Error).message.replace(/^Input 'image': /, '')})`,
    );
  }
}
