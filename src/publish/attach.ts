import {
  MEDIA,
  RegistryError,
  sha256,
  short,
  type Descriptor,
  type FetchedManifest,
  type ReferrerDescriptor,
  type RegistryClient,
} from '../adapters/registry/client';

/**
 * The verification report travels with each pushed platform image as an OCI artifact whose
 * `subject` is the image's manifest: a deployer finds it with `oras discover` or
 * `regctl artifact list`, through the registry's referrers API (OCI distribution 1.1) or, on
 * registries without one (Distribution 2.8, GHCR), the referrers tag `sha256-<hex>` that holds an
 * image index of the referrers and that clients keep up to date themselves.
 */

export const VERIFICATION_TYPE = 'application/vnd.ml-image-build.verification.v1+json';
const CREATED = 'org.opencontainers.image.created';
const TITLE = 'org.opencontainers.image.title';
/** The OCI empty descriptor's blob: an artifact without configuration still needs a config. */
const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_CONFIG: Descriptor = { mediaType: MEDIA.ociEmpty, digest: sha256(EMPTY_JSON), size: EMPTY_JSON.length };

export interface ArtifactBlob {
  descriptor: Descriptor;
  data: Buffer;
}

export interface ReportArtifact {
  /** The empty config, then the report. */
  blobs: ArtifactBlob[];
  manifest: Buffer;
  digest: string;
  /** How the artifact is listed among its subject's referrers. */
  descriptor: ReferrerDescriptor;
}

export interface ArtifactMeta {
  /** When the report was made: the artifact's org.opencontainers.image.created. */
  created: Date | string;
  /** More manifest annotations (source, revision, platform...); copied into the referrers list too. */
  annotations?: Record<string, string>;
}

export type AttachedVia = 'referrers-api' | 'tag-schema';

export interface Attached {
  digest: string;
  via: AttachedVia;
  /** The referrers tag that lists the artifact, when the tag schema was used. */
  tag?: string;
}

/** Keys sorted at every level, so the same report gives the same bytes however it was put together. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  }
  return v;
}

const sorted = (o: Record<string, string>) => canonical(o) as Record<string, string>;

/** RFC 3339 in UTC to the second, as BUILD_TIME and the image labels have it. */
function timestamp(created: Date | string): string {
  if (typeof created === 'string') {
    if (Number.isNaN(Date.parse(created))) throw new Error(`verification artifact: created '${created}' is not an RFC 3339 time`);
    return created;
  }
  return created.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The artifact carrying one verification report: an OCI image manifest with `artifactType`, the
 * empty config, the report JSON as its one layer, and `subject` naming the platform manifest.
 * Pure; the same input gives the same bytes, so re-attaching an unchanged report is recognised by
 * its digest and not listed twice.
 */
export function reportArtifact(report: unknown, subject: Descriptor, meta: ArtifactMeta): ReportArtifact {
  if (
    !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(subject.digest) ||
    !Number.isSafeInteger(subject.size) ||
    subject.size < 0 ||
    !subject.mediaType
  ) {
    throw new Error(`verification artifact: the subject ${JSON.stringify(subject)} is not a manifest descriptor (mediaType, digest, size)`);
  }
  // A JSON round trip first: Dates become strings and undefined members go, as in any JSON reader.
  const plain = JSON.stringify(report);
  if (plain === undefined) throw new Error('verification artifact: the report is not JSON (undefined or a function)');
  const data = Buffer.from(`${JSON.stringify(canonical(JSON.parse(plain)), null, 2)}\n`);
  const layer = { mediaType: VERIFICATION_TYPE, digest: sha256(data), size: data.length, annotations: { [TITLE]: 'verification.json' } };
  const annotations = sorted({ ...meta.annotations, [CREATED]: timestamp(meta.created) });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      artifactType: VERIFICATION_TYPE,
      config: EMPTY_CONFIG,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = sha256(manifest);
  return {
    blobs: [
      { descriptor: EMPTY_CONFIG, data: EMPTY_JSON },
      { descriptor: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, data },
    ],
    manifest,
    digest,
    descriptor: { mediaType: MEDIA.ociManifest, digest, size: manifest.length, artifactType: VERIFICATION_TYPE, annotations },
  };
}

/**
 * The referrers tag of a digest (OCI distribution 1.1 "referrers tag schema"): the algorithm cut
 * to 32 characters, `-`, the encoded part cut to 64, anything a tag may not hold turned into `-`.
 */
export function referrersTag(digest: string): string {
  const at = digest.indexOf(':');
  if (at <= 0) throw new Error(`'${digest}' is not a digest (algorithm:encoded)`);
  return `${digest.slice(0, at).slice(0, 32)}-${digest.slice(at + 1).slice(0, 64)}`.replace(/[^a-zA-Z0-9._-]/g, '-');
}

const isIndex = (m: Pick<FetchedManifest, 'mediaType' | 'json'> | undefined) => m?.mediaType === MEDIA.ociIndex && Array.isArray(m.json?.manifests);

/**
 * The referrers index with `ours` added: a missing tag starts an empty index; what other tools
 * listed stays as it is, in its order; a descriptor already listed (by digest) is not added again.
 * Throws when the tag holds something other than an OCI image index, which the spec says not to
 * overwrite. Pure.
 */
export function mergeReferrers(
  current: Pick<FetchedManifest, 'mediaType' | 'json' | 'body'> | undefined,
  ours: ReferrerDescriptor,
  where = 'the referrers tag',
): { body: Buffer; added: boolean } {
  if (!current) return { body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [ours] })), added: true };
  if (!isIndex(current)) {
    throw new RegistryError(
      `${where} holds a ${current.mediaType || 'manifest of unknown type'}, not an OCI image index of referrers; it was left alone and the report was not listed there`,
    );
  }
  const listed = current.json.manifests as ReferrerDescriptor[];
  if (listed.some((d) => d?.digest === ours.digest)) return { body: current.body, added: false };
  return { body: Buffer.from(JSON.stringify({ ...current.json, schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [...listed, ours] })), added: true };
}

/** Read, merge, write rounds of the referrers tag before another writer is blamed. */
const TAG_ROUNDS = 3;

/**
 * Attaches a verification report to a pushed platform manifest: uploads the artifact's blobs
 * (unless there), writes its manifest by digest, then makes sure the subject lists it. A registry
 * that answered the write with `OCI-Subject`, or that serves the referrers API, keeps that list
 * itself; elsewhere the referrers tag is read, merged and written back.
 */
export async function attachReport(
  client: RegistryClient,
  subject: Descriptor,
  report: unknown,
  opts: ArtifactMeta & { log?: (s: string) => void },
): Promise<Attached> {
  const log = opts.log ?? (() => {});
  const art = reportArtifact(report, subject, opts);
  const of = `the verification report of ${client.name}@${short(subject.digest)}`;
  for (const [i, b] of art.blobs.entries()) {
    if ((await client.blobExists(b.descriptor.digest)) !== undefined) continue;
    await client.putBlob(b.descriptor.digest, b.data, `uploading the ${i === 0 ? 'empty config' : 'report'} of ${of}`);
  }
  const put = await client.writeManifest(art.digest, MEDIA.ociManifest, art.manifest, { what: `writing ${of} (${short(art.digest)})` });
  if (put.digest !== art.digest)
    throw new RegistryError(`writing ${of}: the registry stored it as ${put.digest}, not as ${art.digest}; it must keep a manifest's bytes as sent`);
  if (put.subject) {
    log(`${of}: ${short(art.digest)}, listed by the registry (OCI-Subject)`);
    return { digest: art.digest, via: 'referrers-api' };
  }
  if ((await client.referrers(subject.digest)) !== undefined) {
    log(`${of}: ${short(art.digest)}, listed by the registry's referrers API`);
    return { digest: art.digest, via: 'referrers-api' };
  }

  const tag = referrersTag(subject.digest);
  const where = `${client.name}:${tag}`;
  for (let round = 1; ; round++) {
    const current = await client.getManifest(tag);
    const merged = mergeReferrers(current, art.descriptor, where);
    if (!merged.added) {
      log(`${of}: ${short(art.digest)}, already listed in ${where}`);
      return { digest: art.digest, via: 'tag-schema', tag };
    }
    try {
      // The ETag makes the write conditional where registries support it (elsewhere the read back
      // below catches a concurrent writer). The last round goes without it, so that a registry whose
      // ETags never match cannot keep the report unlisted.
      const ifMatch = round < TAG_ROUNDS ? current?.etag : undefined;
      await client.writeManifest(tag, MEDIA.ociIndex, merged.body, { what: `listing ${of} in ${where}`, ifMatch });
    } catch (e) {
      if (!(e instanceof RegistryError && e.status === 412) || round >= TAG_ROUNDS) throw e;
      log(`${where} changed while the report was being added; merging again`);
      continue;
    }
    const back = await client.getManifest(tag);
    if (isIndex(back) && (back!.json.manifests as ReferrerDescriptor[]).some((d) => d?.digest === art.digest)) {
      log(`${of}: ${short(art.digest)}, listed in ${where} (${(back!.json.manifests as unknown[]).length} referrer(s))`);
      return { digest: art.digest, via: 'tag-schema', tag };
    }
    if (round >= TAG_ROUNDS) {
      throw new RegistryError(
        `listing ${of} in ${where}: after ${TAG_ROUNDS} writes the tag still does not list ${art.digest}; another client keeps rewriting it (or the registry serves stale tags). The artifact itself is stored`,
      );
    }
    log(`${where} was rewritten by another client right after the report was added; merging again`);
  }
}
