import * as tar from 'tar-stream';
import { MEDIA, RegistryError, sha256, type Descriptor } from '../adapters/registry/client';
import type { Docker } from '../adapters/docker';
import { PhaseError } from '../errors';
import { drain, readAll, uploadAsIs, uploadCompressed, type UploadContext } from './layer';
import { chainIds, identifyV1Layer, type LocalImage } from './local-image';
import { formatBytes } from './progress';
import type { BlobKnowledge } from './reuse';

/**
 * Pushes one verified local image to the registry by digest, streamed from `docker save`:
 * no copy of the image on disk, layers compressed on every core as they are read, each blob
 * hashed on the way. Layers the registry already has (or can mount from a sibling repository)
 * are neither compressed nor uploaded. No tag is written: the caller tags the manifest list.
 *
 * Three layouts of `docker save` are read:
 * - legacy (engines before 25): `<v1 id>/layer.tar`, config `<id>.json`; the image ID is the config digest;
 * - OCI layout of the classic store (25 and later): uncompressed layers as `blobs/sha256/<diff id>`;
 * - OCI layout of the containerd store (29's default): blobs as stored, already compressed;
 *   the image ID is the manifest's (or index's) digest, and that manifest is pushed unchanged.
 * Entries come in name order, not layer order, so every entry is handled as it comes and the
 * manifest is put together at the end.
 */
export interface PushContext extends UploadContext {
  docker: Docker;
  knowledge: BlobKnowledge;
  store: 'classic' | 'containerd';
  /** "linux/amd64" (or "slim linux/amd64"), for the log. */
  label: string;
  /** Passes over `docker save` when layers failed to upload (the first pass included). */
  passes?: number;
}

export interface PushedImage {
  digest: string;
  size: number;
  mediaType: string;
  configDigest: string;
  /** How the image got there: read from the engine, or found complete in the registry. */
  via: 'streamed' | 'already-in-registry';
  /** Which blob each diff ID became (classic store), so later images of the run can reuse them. */
  learned: Array<{ diffId: string; desc: Descriptor }>;
  stats: { layers: number; uploaded: number; reused: number; mounted: number; bytesRead: number; bytesSent: number; passes: number; seconds: number };
}

/** Entries up to this size are kept in memory (configs, manifests, small layers); the total is capped. */
const SMALL_ENTRY = 4 * 1024 * 1024;
const SMALL_BUDGET = 32 * 1024 * 1024;

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

interface SaveManifest {
  Config: string;
  Layers: string[];
}

class PassState {
  /** diff ID (or blob digest for as-stored blobs) -> the blob in the registry. */
  readonly done = new Map<string, Descriptor>();
  /** How each layer got there, for the summary. */
  readonly how = new Map<string, 'uploaded' | 'reused' | 'mounted'>();
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
  failures: Error[] = [];
  bytesRead = 0;
  bytesSent = 0;
}

/** Layers the registry already holds, or that can be mounted from a repository where they were seen. */
async function resolveKnown(ctx: PushContext, image: LocalImage, st: PassState): Promise<void> {
  for (const diffId of new Set(image.diffIds)) {
    const known = ctx.knowledge.lookup(diffId);
    if (!known) continue;
    if ((await ctx.client.blobExists(known.desc.digest)) !== undefined) {
      st.done.set(diffId, known.desc);
      st.how.set(diffId, 'reused');
      continue;
    }
    for (const repo of known.repos) {
      if (repo === ctx.client.repository) continue;
      if (await ctx.client.mountBlob(known.desc.digest, repo).catch(() => false)) {
        st.done.set(diffId, known.desc);
        st.how.set(diffId, 'mounted');
        ctx.log(`  ${ctx.label}: layer ${known.desc.digest.slice(7, 19)} mounted from ${repo}`);
        break;
      }
    }
  }
}

function dockerManifest(config: Descriptor, layers: Descriptor[]): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerManifest, config, layers }));
}

/**
 * The registry may have the whole image already: an unchanged re-push costs a few HEADs.
 * Classic store: the config (named by the image ID) and every layer are there. Containerd store:
 * the manifest named by the image ID is there.
 */
async function alreadyThere(ctx: PushContext, image: LocalImage, st: PassState): Promise<PushedImage | undefined> {
  const stats = { layers: image.diffIds.length, uploaded: 0, reused: image.diffIds.length, mounted: 0, bytesRead: 0, bytesSent: 0, passes: 0, seconds: 0 };
  if (ctx.store === 'containerd') {
    const fetched = await ctx.client.getManifest(image.id);
    if (!fetched || fetched.json.manifests || !fetched.json.config?.digest) return undefined;
    return { digest: fetched.digest, size: fetched.body.length, mediaType: fetched.mediaType, configDigest: fetched.json.config.digest, via: 'already-in-registry', learned: [], stats };
  }
  if (!image.diffIds.every((d) => st.done.has(d))) return undefined;
  const configSize = await ctx.client.blobExists(image.id);
  if (configSize === undefined) return undefined;
  const body = dockerManifest({ mediaType: MEDIA.dockerConfig, size: configSize, digest: image.id }, image.diffIds.map((d) => st.done.get(d)!));
  const digest = await ctx.client.putManifest(sha256(body), MEDIA.dockerManifest, body, `writing the ${ctx.label} image manifest`);
  return { digest, size: body.length, mediaType: MEDIA.dockerManifest, configDigest: image.id, via: 'already-in-registry', learned: image.diffIds.map((d) => ({ diffId: d, desc: st.done.get(d)! })), stats };
}

/** One read of `docker save`, handling what is not done yet. */
async function onePass(ctx: PushContext, image: LocalImage, st: PassState, pass: number): Promise<void> {
  const diffIds = new Set(image.diffIds);
  const chains = chainIds(image.diffIds);
  const n = image.diffIds.length;
  const layerLabel = (diffId: string | undefined, fallback: string) => {
    const i = diffId ? image.diffIds.indexOf(diffId) : -1;
    return `${ctx.label} layer ${i >= 0 ? `${i + 1}/${n}` : fallback}`;
  };
  st.files = new Map();
  st.blobs = new Map();
  st.smallBytes = 0;

  const save = await ctx.docker.save(image.ref);
  const extract = tar.extract();
  save.stdout.on('error', (e) => extract.destroy(e));
  save.stdout.pipe(extract);
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
        if (expected && st.done.has(expected)) {
          st.bytesRead += await drain(body);
          st.entryDiff.set(name, expected);
          continue;
        }
        const r = await uploadCompressed(ctx, body, size, expected, layerLabel(expected, kind.kind === 'v1-layer' ? kind.dir.slice(0, 12) : '?'));
        st.bytesRead += size;
        if (r.ok) {
          st.entryDiff.set(name, r.value.diffId);
          st.done.set(r.value.diffId, r.value.desc);
          st.how.set(r.value.diffId, 'uploaded');
          st.bytesSent += r.value.desc.size;
        } else {
          st.failures.push(r.error);
          ctx.log(`  ${layerLabel(expected, '?')}: ${r.error.message}`);
        }
      } else if (kind.kind === 'blob') {
        if (keepSmall()) {
          const data = await readAll(body);
          if (sha256(data) !== kind.digest) throw new PhaseError('publish', `${ctx.label}: docker save gave blob ${kind.digest} whose content hashes to ${sha256(data)}`);
          st.blobs.set(kind.digest, data);
          st.smallBytes += size;
        } else if (st.done.has(kind.digest) || (await ctx.client.blobExists(kind.digest)) !== undefined) {
          if (!st.done.has(kind.digest)) st.how.set(kind.digest, 'reused');
          st.done.set(kind.digest, st.done.get(kind.digest) ?? { mediaType: '', digest: kind.digest, size });
          st.bytesRead += await drain(body);
        } else {
          const r = await uploadAsIs(ctx, body, kind.digest, size, `${ctx.label} blob ${kind.digest.slice(7, 19)}`);
          st.bytesRead += size;
          if (r.ok) {
            st.done.set(kind.digest, r.value);
            st.how.set(kind.digest, 'uploaded');
            st.bytesSent += size;
          } else {
            st.failures.push(r.error);
            ctx.log(`  ${ctx.label} blob ${kind.digest.slice(7, 19)}: ${r.error.message}`);
          }
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
    if (e instanceof PhaseError || e instanceof RegistryError) throw e;
    throw new PhaseError('publish', `${ctx.label}: reading docker save of ${image.ref} (pass ${pass}) failed: ${(e as Error).message}`);
  }
  const exit = await save.done;
  if (exit.code !== 0) throw new PhaseError('publish', `${ctx.label}: docker save ${image.ref} failed (exit ${exit.code}): ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

/** Puts the manifest together from what the pass saw, uploads config and small blobs, and pushes it. */
type Finished = Pick<PushedImage, 'digest' | 'size' | 'mediaType' | 'configDigest' | 'learned'>;

async function finish(ctx: PushContext, image: LocalImage, st: PassState): Promise<Finished | undefined> {
  const manifestJson = st.files.get('manifest.json');
  if (!manifestJson) throw new PhaseError('publish', `${ctx.label}: docker save of ${image.ref} has no manifest.json`);
  const [saved] = JSON.parse(manifestJson.toString('utf8')) as SaveManifest[];
  const configName = saved.Config.replace(/^\.\//, '');
  const blobName = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(configName);
  const configBytes = blobName ? st.blobs.get(`sha256:${blobName[1]}`) : st.files.get(configName);
  if (!configBytes) throw new PhaseError('publish', `${ctx.label}: docker save of ${image.ref} lacks its config ${configName}`);
  const configDigest = sha256(configBytes);

  if (configDigest === image.id) {
    // Classic store: the image ID is the config digest. Each layer must be the one the config names.
    const config = JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== saved.Layers.length) throw new PhaseError('publish', `${ctx.label}: docker save lists ${saved.Layers.length} layers, the config ${diffIds.length}`);
    const layers: Descriptor[] = [];
    for (let i = 0; i < diffIds.length; i++) {
      let name = saved.Layers[i].replace(/^\.\//, '');
      for (let hops = 0; st.v1Links.has(name) && hops < 8; hops++) name = st.v1Links.get(name)!;
      const seen = st.entryDiff.get(name) ?? (/^blobs\/sha256\/([0-9a-f]{64})$/.test(name) ? `sha256:${name.slice(13)}` : undefined);
      if (seen && seen !== diffIds[i]) throw new PhaseError('publish', `${ctx.label}: layer ${i + 1} of the saved image hashes to ${seen}, its config says ${diffIds[i]}; nothing was tagged`);
      const desc = st.done.get(diffIds[i]);
      if (!desc) return undefined; // still to upload: another pass
      layers.push(desc);
    }
    if ((await ctx.client.blobExists(configDigest)) === undefined) await ctx.client.putBlob(configDigest, configBytes, `upload of the ${ctx.label} image config`);
    const body = dockerManifest({ mediaType: MEDIA.dockerConfig, size: configBytes.length, digest: configDigest }, layers);
    const digest = sha256(body);
    const stored = await ctx.client.putManifest(digest, MEDIA.dockerManifest, body, `writing the ${ctx.label} image manifest`);
    if (stored !== digest) throw new PhaseError('publish', `${ctx.label}: the registry stored the manifest as ${stored}, expected ${digest}`);
    return { digest, size: body.length, mediaType: MEDIA.dockerManifest, configDigest, learned: diffIds.map((d, i) => ({ diffId: d, desc: layers[i] })) };
  }

  // Containerd store: the image ID names the manifest (or an index holding it); push it as stored.
  let manifestDigest = image.id;
  let manifestBytes = st.blobs.get(image.id);
  let top = manifestBytes ? (JSON.parse(manifestBytes.toString('utf8')) as { manifests?: Array<{ digest: string; platform?: { os?: string; architecture?: string; variant?: string } }> }) : undefined;
  if (top?.manifests) {
    const entry = top.manifests.find((m) => m.platform?.os === image.os && m.platform?.architecture === image.architecture && (!image.variant || m.platform?.variant === image.variant));
    if (!entry) throw new PhaseError('publish', `${ctx.label}: the saved index ${image.id} has no ${image.os}/${image.architecture} manifest`);
    manifestDigest = entry.digest;
    manifestBytes = st.blobs.get(entry.digest);
    top = undefined;
  }
  if (!manifestBytes) {
    throw new PhaseError('publish', `${ctx.label}: docker save of ${image.ref} holds neither a config nor a manifest named by the verified image ID ${image.id} (config ${configDigest}); nothing was tagged`);
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as { mediaType?: string; config: Descriptor; layers: Descriptor[] };
  if (manifest.config.digest !== configDigest) throw new PhaseError('publish', `${ctx.label}: manifest ${manifestDigest} names config ${manifest.config.digest}, docker save gave ${configDigest}`);
  for (const blob of [manifest.config, ...manifest.layers]) {
    if (st.done.has(blob.digest)) continue;
    const small = st.blobs.get(blob.digest);
    if (small) {
      if ((await ctx.client.blobExists(blob.digest)) === undefined) await ctx.client.putBlob(blob.digest, small, `upload of ${ctx.label} blob ${blob.digest.slice(7, 19)}`);
      st.done.set(blob.digest, blob);
      if (blob !== manifest.config) st.how.set(blob.digest, 'uploaded');
    } else if ((await ctx.client.blobExists(blob.digest)) === undefined) {
      return undefined; // still to upload: another pass
    }
  }
  const mediaType = manifest.mediaType ?? MEDIA.ociManifest;
  const stored = await ctx.client.putManifest(manifestDigest, mediaType, manifestBytes, `writing the ${ctx.label} image manifest`);
  if (stored !== manifestDigest) throw new PhaseError('publish', `${ctx.label}: the registry stored the manifest as ${stored}, expected ${manifestDigest}`);
  return { digest: manifestDigest, size: manifestBytes.length, mediaType, configDigest, learned: [] };
}

export async function pushLocalImage(ctx: PushContext, image: LocalImage): Promise<PushedImage> {
  const t0 = Date.now();
  const st = new PassState();
  await resolveKnown(ctx, image, st);
  const there = await alreadyThere(ctx, image, st);
  if (there) {
    ctx.log(`${ctx.label}: the registry already has this image (${there.digest}); nothing to upload`);
    return { ...there, stats: { ...there.stats, seconds: (Date.now() - t0) / 1000 } };
  }
  const known = [...st.how.values()].length;
  if (known) ctx.log(`${ctx.label}: ${known} of ${image.diffIds.length} layers already in the registry; streaming the rest from docker save`);

  const passes = ctx.passes ?? 3;
  for (let pass = 1; pass <= passes; pass++) {
    st.failures = [];
    await onePass(ctx, image, st, pass);
    const result = await finish(ctx, image, st);
    if (result) {
      const how = [...st.how.values()];
      const stats = {
        layers: image.diffIds.length,
        uploaded: how.filter((h) => h === 'uploaded').length,
        reused: how.filter((h) => h === 'reused').length,
        mounted: how.filter((h) => h === 'mounted').length,
        bytesRead: st.bytesRead,
        bytesSent: st.bytesSent,
        passes: pass,
        seconds: (Date.now() - t0) / 1000,
      };
      ctx.log(`${ctx.label}: ${result.digest}: ${stats.uploaded} uploaded, ${stats.reused} already there, ${stats.mounted} mounted; read ${formatBytes(stats.bytesRead)}, sent ${formatBytes(stats.bytesSent)} in ${stats.seconds.toFixed(1)}s`);
      return { ...result, via: 'streamed', stats };
    }
    // Refused credentials, or bytes that are not what the verified image says, will not change on
    // another pass: stop at once.
    const fatal = st.failures.find((f) => (f instanceof RegistryError && f.credentials) || f instanceof PhaseError);
    if (fatal) throw fatal;
    if (pass < passes) ctx.log(`${ctx.label}: ${st.failures.length || 'some'} blob upload(s) failed; reading docker save again for them (pass ${pass + 1} of ${passes})`);
  }
  const why = st.failures.map((f) => f.message).join('; ') || 'some layers never arrived';
  throw new PhaseError('publish', `${ctx.label}: could not upload every layer after ${passes} passes over docker save: ${why}`);
}

