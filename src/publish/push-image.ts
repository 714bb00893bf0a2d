import { MEDIA, RegistryError, sha256, type Descriptor } from '../adapters/registry/client';
import type { Docker } from '../adapters/docker';
import { PhaseError } from '../errors';
import { drain, uploadAsIs, uploadCompressed, type UploadContext } from './layer';
import type { LocalImage } from './local-image';
import { annotateManifest, imageManifest } from './manifest';
import { formatBytes } from './progress';
import type { BlobKnowledge } from './reuse';
import { readSave, resolveSaved, SaveReading } from './save-reader';

/**
 * Pushes one verified local image to the registry by digest, streamed from `docker save`:
 * no copy of the image on disk, layers compressed on every core as they are read, each blob
 * hashed on the way. Layers the registry already has (or can mount from a sibling repository)
 * are neither compressed nor uploaded. No tag is written: the caller tags the manifest list.
 *
 * `docker save` is read in any of its three layouts (save-reader.ts); with the containerd store
 * the stored blobs and the manifest named by the image ID are pushed unchanged.
 */
export interface PushContext extends UploadContext {
  docker: Docker;
  knowledge: BlobKnowledge;
  store: 'classic' | 'containerd';
  /** "linux/amd64" (or "slim linux/amd64"), for the log. */
  label: string;
  /** Passes over `docker save` when layers failed to upload (the first pass included). */
  passes?: number;
  /** The `manifest` annotations of this platform; they go into the manifest pushed (manifest.ts). */
  annotations?: Record<string, string>;
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

class PassState extends SaveReading {
  /** diff ID (or blob digest for as-stored blobs) -> the blob in the registry. */
  readonly done = new Map<string, Descriptor>();
  /** How each layer got there, for the summary. */
  readonly how = new Map<string, 'uploaded' | 'reused' | 'mounted'>();
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

/**
 * The registry may have the whole image already: an unchanged re-push costs a few HEADs.
 * Classic store: the config (named by the image ID) and every layer are there. Containerd store:
 * the manifest named by the image ID is there.
 */
async function alreadyThere(ctx: PushContext, image: LocalImage, st: PassState): Promise<PushedImage | undefined> {
  const stats = { layers: image.diffIds.length, uploaded: 0, reused: image.diffIds.length, mounted: 0, bytesRead: 0, bytesSent: 0, passes: 0, seconds: 0 };
  if (ctx.store === 'containerd') {
    // With annotations the pushed manifest is not the stored one (whose digest is the image ID),
    // and the stored bytes come only from docker save: the pass reads it, and uploads no blob the
    // registry has.
    if (Object.keys(ctx.annotations ?? {}).length) return undefined;
    const fetched = await ctx.client.getManifest(image.id);
    if (!fetched || fetched.json.manifests || !fetched.json.config?.digest) return undefined;
    return {
      digest: fetched.digest,
      size: fetched.body.length,
      mediaType: fetched.mediaType,
      configDigest: fetched.json.config.digest,
      via: 'already-in-registry',
      learned: [],
      stats,
    };
  }
  if (!image.diffIds.every((d) => st.done.has(d))) return undefined;
  const configSize = await ctx.client.blobExists(image.id);
  if (configSize === undefined) return undefined;
  const { body, mediaType } = imageManifest(
    { mediaType: MEDIA.dockerConfig, size: configSize, digest: image.id },
    image.diffIds.map((d) => st.done.get(d)!),
    ctx.annotations,
  );
  const digest = await ctx.client.putManifest(sha256(body), mediaType, body, `writing the ${ctx.label} image manifest`);
  return {
    digest,
    size: body.length,
    mediaType,
    configDigest: image.id,
    via: 'already-in-registry',
    learned: image.diffIds.map((d) => ({ diffId: d, desc: st.done.get(d)! })),
    stats,
  };
}

/** One read of `docker save`, handling what is not done yet. */
async function onePass(ctx: PushContext, image: LocalImage, st: PassState, pass: number): Promise<void> {
  const n = image.diffIds.length;
  const layerLabel = (diffId: string | undefined, fallback: string) => {
    const i = diffId ? image.diffIds.indexOf(diffId) : -1;
    return `${ctx.label} layer ${i >= 0 ? `${i + 1}/${n}` : fallback}`;
  };
  await readSave(
    ctx.docker,
    image,
    st,
    {
      layer: async (body, size, expected, fallback) => {
        if (expected && st.done.has(expected)) {
          st.bytesRead += await drain(body);
          return expected;
        }
        const r = await uploadCompressed(ctx, body, size, expected, layerLabel(expected, fallback));
        st.bytesRead += size;
        if (!r.ok) {
          st.failures.push(r.error);
          ctx.log(`  ${layerLabel(expected, '?')}: ${r.error.message}`);
          return undefined;
        }
        st.done.set(r.value.diffId, r.value.desc);
        st.how.set(r.value.diffId, 'uploaded');
        st.bytesSent += r.value.desc.size;
        return r.value.diffId;
      },
      blob: async (body, digest, size) => {
        if (st.done.has(digest) || (await ctx.client.blobExists(digest)) !== undefined) {
          if (!st.done.has(digest)) st.how.set(digest, 'reused');
          st.done.set(digest, st.done.get(digest) ?? { mediaType: '', digest, size });
          st.bytesRead += await drain(body);
          return;
        }
        const r = await uploadAsIs(ctx, body, digest, size, `${ctx.label} blob ${digest.slice(7, 19)}`);
        st.bytesRead += size;
        if (r.ok) {
          st.done.set(digest, r.value);
          st.how.set(digest, 'uploaded');
          st.bytesSent += size;
        } else {
          st.failures.push(r.error);
          ctx.log(`  ${ctx.label} blob ${digest.slice(7, 19)}: ${r.error.message}`);
        }
      },
    },
    { label: ctx.label, phase: 'publish', pass },
  );
}

/** Puts the manifest together from what the pass saw, uploads config and small blobs, and pushes it. */
type Finished = Pick<PushedImage, 'digest' | 'size' | 'mediaType' | 'configDigest' | 'learned'>;

async function finish(ctx: PushContext, image: LocalImage, st: PassState): Promise<Finished | undefined> {
  const saved = resolveSaved(st, image, ctx.label, 'publish');
  const configDigest = saved.configDigest;

  if (saved.store === 'classic') {
    const layers: Descriptor[] = [];
    for (const l of saved.layers) {
      const desc = st.done.get(l.diffId);
      if (!desc) return undefined; // still to upload: another pass
      layers.push(desc);
    }
    if ((await ctx.client.blobExists(configDigest)) === undefined)
      await ctx.client.putBlob(configDigest, saved.config, `upload of the ${ctx.label} image config`);
    const { body, mediaType } = imageManifest({ mediaType: MEDIA.dockerConfig, size: saved.config.length, digest: configDigest }, layers, ctx.annotations);
    const digest = sha256(body);
    const stored = await ctx.client.putManifest(digest, mediaType, body, `writing the ${ctx.label} image manifest`);
    if (stored !== digest) throw new PhaseError('publish', `${ctx.label}: the registry stored the manifest as ${stored}, expected ${digest}`);
    return { digest, size: body.length, mediaType, configDigest, learned: saved.layers.map((l, i) => ({ diffId: l.diffId, desc: layers[i] })) };
  }

  // Containerd store: the manifest named by the image ID is pushed as stored.
  const { manifest, manifestDigest, manifestBytes } = saved;
  for (const blob of [manifest.config, ...manifest.layers]) {
    if (st.done.has(blob.digest)) continue;
    const small = st.blobs.get(blob.digest);
    if (small) {
      if ((await ctx.client.blobExists(blob.digest)) === undefined)
        await ctx.client.putBlob(blob.digest, small, `upload of ${ctx.label} blob ${blob.digest.slice(7, 19)}`);
      st.done.set(blob.digest, blob);
      if (blob !== manifest.config) st.how.set(blob.digest, 'uploaded');
    } else if ((await ctx.client.blobExists(blob.digest)) === undefined) {
      return undefined; // still to upload: another pass
    }
  }
  // Annotated, it is an OCI manifest of the same config and layers; without annotations the stored bytes as they are.
  const annotated = annotateManifest(manifestBytes, ctx.annotations ?? {});
  const body = annotated.body;
  const digest = body === manifestBytes ? manifestDigest : sha256(body);
  if (annotated.configDigest !== configDigest)
    throw new PhaseError('publish', `${ctx.label}: the manifest names config ${annotated.configDigest}, not the saved image's ${configDigest}`);
  const mediaType = body === manifestBytes ? (manifest.mediaType ?? MEDIA.ociManifest) : annotated.mediaType;
  const stored = await ctx.client.putManifest(digest, mediaType, body, `writing the ${ctx.label} image manifest`);
  if (stored !== digest) throw new PhaseError('publish', `${ctx.label}: the registry stored the manifest as ${stored}, expected ${digest}`);
  return { digest, size: body.length, mediaType, configDigest, learned: [] };
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
      ctx.log(
        `${ctx.label}: ${result.digest}: ${stats.uploaded} uploaded, ${stats.reused} already there, ${stats.mounted} mounted; read ${formatBytes(stats.bytesRead)}, sent ${formatBytes(stats.bytesSent)} in ${stats.seconds.toFixed(1)}s`,
      );
      return { ...result, via: 'streamed', stats };
    }
    // Refused credentials, or bytes that are not what the verified image says, will not change on
    // another pass: stop at once.
    const fatal = st.failures.find((f) => (f instanceof RegistryError && f.credentials) || f instanceof PhaseError);
    if (fatal) throw fatal;
    if (pass < passes)
      ctx.log(`${ctx.label}: ${st.failures.length || 'some'} blob upload(s) failed; reading docker save again for them (pass ${pass + 1} of ${passes})`);
  }
  const why = st.failures.map((f) => f.message).join('; ') || 'some layers never arrived';
  throw new PhaseError('publish', `${ctx.label}: could not upload every layer after ${passes} passes over docker save: ${why}`);
}
