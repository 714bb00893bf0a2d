import * as tar from 'tar-stream';
import { sha256, type Descriptor } from '../adapters/registry/client';
import type { Docker } from '../adapters/docker';
import { PhaseError } from '../errors';
import { drain, readAll } from './layer';
import { chainIds, identifyV1Layer, type LocalImage } from './local-image';

/**
 * One read of `docker save` in any of its three layouts, shared by the push (which uploads what
 * it reads) and the size check (which only compresses and counts):
 * - legacy (engines before 25): `<v1 id>/layer.tar`, config `<id>.json`; the image ID is the config digest;
 * - OCI layout of the classic store (25 and later): uncompressed layers as `blobs/sha256/<diff id>`;
 * - OCI layout of the containerd store (29's default): blobs as stored, already compressed;
 *   the image ID is the manifest's (or index's) digest.
 * Entries come in name order, not layer order, so each is handed over as it comes and the image
 * is put together at the end (`resolveSaved`). Small entries are kept in memory; the caller gets
 * the layers and large blobs as streams and must read each to its end.
 */

/** Where an entry of `docker save` belongs. Pure, so the table of layouts is tested without an engine. */
export type EntryKind =
  | { kind: 'v1-json'; dir: string }
  | { kind: 'v1-layer'; dir: string }
  | { kind: 'layer'; diffId: string } // uncompressed, named by its diff ID
  | { kind: 'blob'; digest: string } // any other blob of an OCI layout
  | { kind: 'file'; name: string } // manifest.json, index.json, <id>.json, repositories, oci-layout
  | { kind: 'skip' };

export function classifyEntry(name: string, type: string, diffIds: Set<string>): EntryKind {
  const n = name.replace(/^\.\//, '');
  if (type === 'directory') return { kind: 'skip' };
  let m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(n);
  if (m) return diffIds.has(`sha256:${m[1]}`) ? { kind: 'layer', diffId: `sha256:${m[1]}` } : { kind: 'blob', digest: `sha256:${m[1]}` };
  m = /^([0-9a-f]{64})\/(json|layer\.tar|VERSION)$/.exec(n);
  if (m) return m[2] === 'json' ? { kind: 'v1-json', dir: m[1] } : m[2] === 'layer.tar' ? { kind: 'v1-layer', dir: m[1] } : { kind: 'skip' };
  if (!n.includes('/')) return { kind: 'file', name: n };
  return { kind: 'skip' };
}

/** Entries up to this size are kept in memory (configs, manifests, small layers); the total is capped. */
const SMALL_ENTRY = 4 * 1024 * 1024;
const SMALL_BUDGET = 32 * 1024 * 1024;

/**
 * What reads of one image's `docker save` learnt. The layer bookkeeping outlives a read (the push
 * reads again for the layers whose upload failed); the small entries are those of the last read.
 */
export class SaveReading {
  /** Entry name -> diff ID, learnt by hashing (legacy layers that could not be told apart before reading). */
  readonly entryDiff = new Map<string, string>();
  /** Legacy directory -> layer index, from its json. */
  readonly v1Dirs = new Map<string, number>();
  /** Legacy `layer.tar` links -> the entry they point at. */
  readonly v1Links = new Map<string, string>();
  /** Small entries by name (files) and small blobs by digest. */
  files = new Map<string, Buffer>();
  blobs = new Map<string, Buffer>();
  smallBytes = 0;
}

export interface SaveHandlers {
  /**
   * An uncompressed layer (classic store). `expected` is its diff ID when the layout told it
   * before the bytes came. Reads `body` to its end; returns the diff ID the entry holds when it
   * knows it (a failed upload does not), so a later read and `resolveSaved` can place it.
   */
  layer(body: AsyncIterable<Buffer>, size: number, expected: string | undefined, fallbackLabel: string): Promise<string | undefined>;
  /** A blob too large to keep in memory (a compressed layer of the containerd store). Reads `body` to its end. */
  blob(body: AsyncIterable<Buffer>, digest: string, size: number): Promise<void>;
}

export interface ReadOptions {
  /** "linux/amd64", for messages. */
  label: string;
  /** The phase a broken read is reported in. */
  phase: string;
  pass?: number;
  signal?: AbortSignal;
}

/**
 * Reads `docker save` of `image` once. A handler's own error passes through unchanged (the push
 * tells registry errors apart); a broken save stream or archive becomes a PhaseError naming it.
 */
export async function readSave(docker: Docker, image: LocalImage, st: SaveReading, handlers: SaveHandlers, o: ReadOptions): Promise<void> {
  const diffIds = new Set(image.diffIds);
  const chains = chainIds(image.diffIds);
  st.files = new Map();
  st.blobs = new Map();
  st.smallBytes = 0;
  const cancelled = () => new PhaseError(o.phase, `${o.label}: reading docker save of ${image.ref} was cancelled`);
  if (o.signal?.aborted) throw cancelled();

  const save = await docker.save(image.ref);
  const onAbort = () => save.kill();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const extract = tar.extract();
  save.stdout.on('error', (e) => extract.destroy(e));
  save.stdout.pipe(extract);
  let handlerError: unknown;
  const handled = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      handlerError = e;
      throw e;
    }
  };
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const kind = classifyEntry(h.name, h.type ?? 'file', diffIds);
      const size = h.size ?? 0;
      const body = entry as AsyncIterable<Buffer>;
      const keepSmall = () => size <= SMALL_ENTRY && st.smallBytes + size <= SMALL_BUDGET;

      if (kind.kind === 'v1-json') {
        const text = (await readAll(body)).toString('utf8');
        const i = identifyV1Layer(text, chains);
        if (i !== undefined) st.v1Dirs.set(kind.dir, i);
      } else if (kind.kind === 'v1-layer' || kind.kind === 'layer') {
        const name = h.name.replace(/^\.\//, '');
        if (h.type === 'symlink' || h.type === 'link') {
          // A layer saved twice is a link to its first copy.
          st.v1Links.set(name, h.linkname?.replace(/^(\.\.\/)+/, '') ?? '');
          await drain(body);
          continue;
        }
        const expected = kind.kind === 'layer' ? kind.diffId : st.v1Dirs.has(kind.dir) ? image.diffIds[st.v1Dirs.get(kind.dir)!] : st.entryDiff.get(name);
        const fallback = kind.kind === 'v1-layer' ? kind.dir.slice(0, 12) : '?';
        const diffId = await handled(() => handlers.layer(body, size, expected, fallback));
        if (diffId) st.entryDiff.set(name, diffId);
      } else if (kind.kind === 'blob') {
        if (keepSmall()) {
          const data = await readAll(body);
          if (sha256(data) !== kind.digest)
            throw new PhaseError(o.phase, `${o.label}: docker save gave blob ${kind.digest} whose content hashes to ${sha256(data)}`);
          st.blobs.set(kind.digest, data);
          st.smallBytes += size;
        } else {
          await handled(() => handlers.blob(body, kind.digest, size));
        }
      } else if (kind.kind === 'file' && keepSmall()) {
        st.files.set(kind.name, await readAll(body));
        st.smallBytes += size;
      } else {
        await drain(body);
      }
    }
  } catch (e) {
    save.kill();
    await save.done;
    o.signal?.removeEventListener('abort', onAbort);
    if (o.signal?.aborted) throw cancelled();
    if (e === handlerError || e instanceof PhaseError) throw e;
    throw new PhaseError(o.phase, `${o.label}: reading docker save of ${image.ref}${o.pass ? ` (pass ${o.pass})` : ''} failed: ${(e as Error).message}`);
  }
  const exit = await save.done;
  o.signal?.removeEventListener('abort', onAbort);
  if (o.signal?.aborted) throw cancelled();
  if (exit.code !== 0)
    throw new PhaseError(o.phase, `${o.label}: docker save ${image.ref} failed (exit ${exit.code}): ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

interface SaveManifest {
  Config: string;
  Layers: string[];
}

export interface OciManifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** What one read of `docker save` holds, put together and checked against the verified image. */
export type SavedImage =
  | {
      store: 'classic';
      config: Buffer;
      configDigest: string;
      /** Each layer the config names, in order, and the entry whose bytes it was (links followed). */
      layers: Array<{ diffId: string; entry: string }>;
    }
  | {
      store: 'containerd';
      config: Buffer;
      configDigest: string;
      /** The manifest named by the image ID (or by its index, for the image's platform), as stored. */
      manifestDigest: string;
      manifestBytes: Buffer;
      manifest: OciManifest;
    };

/**
 * Puts the image together from a read: the classic store's image ID is its config digest and
 * every layer must be the one the config names; the containerd store's image ID names the
 * manifest (or an index holding it), which must name the saved config.
 */
export function resolveSaved(st: SaveReading, image: LocalImage, label: string, phase: string): SavedImage {
  const manifestJson = st.files.get('manifest.json');
  if (!manifestJson) throw new PhaseError(phase, `${label}: docker save of ${image.ref} has no manifest.json`);
  const [saved] = JSON.parse(manifestJson.toString('utf8')) as SaveManifest[];
  const configName = saved.Config.replace(/^\.\//, '');
  const blobName = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(configName);
  const config = blobName ? st.blobs.get(`sha256:${blobName[1]}`) : st.files.get(configName);
  if (!config) throw new PhaseError(phase, `${label}: docker save of ${image.ref} lacks its config ${configName}`);
  const configDigest = sha256(config);

  if (configDigest === image.id) {
    const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
    if (diffIds.length !== saved.Layers.length)
      throw new PhaseError(phase, `${label}: docker save lists ${saved.Layers.length} layers, the config ${diffIds.length}`);
    const layers = diffIds.map((diffId, i) => {
      let entry = saved.Layers[i].replace(/^\.\//, '');
      for (let hops = 0; st.v1Links.has(entry) && hops < 8; hops++) entry = st.v1Links.get(entry)!;
      const seen = st.entryDiff.get(entry) ?? (/^blobs\/sha256\/([0-9a-f]{64})$/.test(entry) ? `sha256:${entry.slice(13)}` : undefined);
      if (seen && seen !== diffId)
        throw new PhaseError(phase, `${label}: layer ${i + 1} of the saved image hashes to ${seen}, its config says ${diffId}; nothing was tagged`);
      return { diffId, entry };
    });
    return { store: 'classic', config, configDigest, layers };
  }

  let manifestDigest = image.id;
  let manifestBytes = st.blobs.get(image.id);
  const top = manifestBytes
    ? (JSON.parse(manifestBytes.toString('utf8')) as {
        manifests?: Array<{ digest: string; platform?: { os?: string; architecture?: string; variant?: string } }>;
      })
    : undefined;
  if (top?.manifests) {
    const entry = top.manifests.find(
      (m) => m.platform?.os === image.os && m.platform?.architecture === image.architecture && (!image.variant || m.platform?.variant === image.variant),
    );
    if (!entry) throw new PhaseError(phase, `${label}: the saved index ${image.id} has no ${image.os}/${image.architecture} manifest`);
    manifestDigest = entry.digest;
    manifestBytes = st.blobs.get(entry.digest);
  }
  if (!manifestBytes) {
    throw new PhaseError(
      phase,
      `${label}: docker save of ${image.ref} holds neither a config nor a manifest named by the verified image ID ${image.id} (config ${configDigest}); nothing was tagged`,
    );
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as OciManifest;
  if (manifest.config.digest !== configDigest)
    throw new PhaseError(phase, `${label}: manifest ${manifestDigest} names config ${manifest.config.digest}, docker save gave ${configDigest}`);
  return { store: 'containerd', config, configDigest, manifestDigest, manifestBytes, manifest };
}
