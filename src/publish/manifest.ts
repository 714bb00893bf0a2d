import { MEDIA, type Descriptor } from '../adapters/registry/client';

export { MEDIA };

export interface PlatformManifest {
  digest: string;
  size: number;
  mediaType: string;
  os: string;
  architecture: string;
  /** The list entry's own annotations (`manifest-descriptor`); none when empty or absent. */
  annotations?: Record<string, string>;
}

const nonEmpty = (a: Record<string, string> | undefined): a is Record<string, string> => a !== undefined && Object.keys(a).length > 0;

/**
 * A manifest list naming each platform's manifest by digest; the tags will all point at it.
 * A Docker manifest list, unless annotations are asked for: the Docker schema has no place for
 * them (some registries refuse unknown fields), so then it is an OCI index, which may name Docker
 * and OCI manifests alike. The body declares its media type (`mediaType`).
 */
export function manifestList(entries: PlatformManifest[], indexAnnotations: Record<string, string> = {}): string {
  const oci = nonEmpty(indexAnnotations) || entries.some((e) => nonEmpty(e.annotations));
  const list = {
    schemaVersion: 2,
    mediaType: oci ? MEDIA.ociIndex : MEDIA.dockerList,
    manifests: entries.map((e) => ({
      mediaType: e.mediaType,
      size: e.size,
      digest: e.digest,
      platform: { architecture: e.architecture, os: e.os },
      ...(nonEmpty(e.annotations) ? { annotations: e.annotations } : {}),
    })),
    ...(nonEmpty(indexAnnotations) ? { annotations: indexAnnotations } : {}),
  };
  return JSON.stringify(list, null, 2);
}

/** The same compressed bytes under the other format's name; a type with no counterpart (zstd, foreign layers) is kept. */
const DOCKER_TO_OCI: Record<string, string> = {
  [MEDIA.dockerManifest]: MEDIA.ociManifest,
  [MEDIA.dockerConfig]: 'application/vnd.oci.image.config.v1+json',
  [MEDIA.dockerLayerGzip]: 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.oci.image.layer.v1.tar',
};
const OCI_TO_DOCKER: Record<string, string> = Object.fromEntries(Object.entries(DOCKER_TO_OCI).map(([d, o]) => [o, d]));

const retype = (d: Descriptor, map: Record<string, string>): Descriptor => ({ mediaType: map[d.mediaType] ?? d.mediaType, size: d.size, digest: d.digest });

/**
 * A platform image manifest of a config and its layers, as the streaming push writes it. Without
 * annotations a Docker schema 2 manifest (what `docker push` writes); with them an OCI manifest,
 * as BuildKit switches to OCI media types for annotations: the blobs are the same bytes under
 * OCI names, so the config digest, which the verified-identity check compares, does not change.
 * Descriptors learnt from a published image of the other format are renamed to match.
 */
export function imageManifest(config: Descriptor, layers: Descriptor[], annotations: Record<string, string> = {}): { body: Buffer; mediaType: string } {
  if (!nonEmpty(annotations)) {
    const body = {
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: retype(config, OCI_TO_DOCKER),
      layers: layers.map((l) => retype(l, OCI_TO_DOCKER)),
    };
    return { body: Buffer.from(JSON.stringify(body)), mediaType: MEDIA.dockerManifest };
  }
  const body = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: retype(config, DOCKER_TO_OCI),
    layers: layers.map((l) => retype(l, DOCKER_TO_OCI)),
    annotations,
  };
  return { body: Buffer.from(JSON.stringify(body)), mediaType: MEDIA.ociManifest };
}

/**
 * A stored manifest (containerd image store) with the annotations added: an OCI manifest of the
 * same config and layers, the stored manifest's own annotations kept unless a user key replaces
 * them. Unchanged bytes when there are no annotations, so the stored digest is pushed as before.
 */
export function annotateManifest(stored: Buffer, annotations: Record<string, string>): { body: Buffer; mediaType: string; configDigest: string } {
  const json = JSON.parse(stored.toString('utf8')) as {
    mediaType?: string;
    config: Descriptor;
    layers: Descriptor[];
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  if (!nonEmpty(annotations)) return { body: stored, mediaType: json.mediaType ?? MEDIA.ociManifest, configDigest: json.config.digest };
  const merged = { ...json.annotations, ...annotations };
  const body = {
    ...json,
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { ...json.config, mediaType: DOCKER_TO_OCI[json.config.mediaType] ?? json.config.mediaType },
    layers: json.layers.map((l) => ({ ...l, mediaType: DOCKER_TO_OCI[l.mediaType] ?? l.mediaType })),
    annotations: Object.fromEntries(
      Object.keys(merged)
        .sort()
        .map((k) => [k, merged[k]]),
    ),
  };
  return { body: Buffer.from(JSON.stringify(body)), mediaType: MEDIA.ociManifest, configDigest: json.config.digest };
}
