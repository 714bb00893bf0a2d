import * as crypto from 'crypto';

/** What the engine says of a verified local image before it is read (`docker image inspect`). */
export interface LocalImage {
  ref: string;
  /** Image ID: the config digest (classic image store) or the manifest/index digest (containerd store). */
  id: string;
  /** Uncompressed layer digests, in order (RootFS.Layers). */
  diffIds: string[];
  os: string;
  architecture: string;
  variant?: string;
}

const sha = (s: string) => `sha256:${crypto.createHash('sha256').update(s).digest('hex')}`;

/** Chain IDs of the layers (image-spec: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  diffIds.forEach((d, i) => out.push(i === 0 ? d : sha(`${out[i - 1]} ${d}`)));
  return out;
}

/** Go's encoding/json escapes these in strings; JSON.stringify does not. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Which layer a legacy `docker save` directory holds, read from its `json` file before its
 * `layer.tar` arrives (engines before 25 name layer directories by a v1 ID, not by content).
 *
 * The v1 ID is the SHA-256 of the directory's JSON without `id`, with `layer_id` set to the
 * layer's chain ID and `parent` to the parent's v1 ID, keys sorted, as Go encodes it; `os` is
 * only part of it for the top layer. Trying each chain ID and checking the hash against the
 * directory's own `id` tells the layer apart for certain, or not at all: undefined then, and the
 * caller treats the layer as unknown (it is compressed and checked by its content hash anyway).
 */
export function identifyV1Layer(jsonText: string, chains: string[]): number | undefined {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(jsonText) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const id = j.id;
  const parent = j.parent;
  if (typeof id !== 'string') return undefined;
  const base: Record<string, unknown> = { ...j };
  delete base.id;
  delete base.parent;
  for (const withOs of [false, true]) {
    for (let i = 0; i < chains.length; i++) {
      const c: Record<string, unknown> = { ...base, layer_id: chains[i] };
      if (!withOs) delete c.os;
      if (typeof parent === 'string' && parent) c.parent = `sha256:${parent}`;
      const sorted = Object.fromEntries(
        Object.keys(c)
          .sort()
          .map((k) => [k, c[k]]),
      );
      if (sha(goEscape(JSON.stringify(sorted))) === `sha256:${id}`) return i;
    }
  }
  return undefined;
}
