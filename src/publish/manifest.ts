import * as crypto from 'crypto';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
};

export interface PlatformManifest {
  digest: string;
  size: number;
  mediaType: string;
  os: string;
  architecture: string;
}

/** A manifest list naming each platform's manifest by digest; the tags will all point at it. */
export function manifestList(entries: PlatformManifest[]): string {
  const list = {
    schemaVersion: 2,
    mediaType: MEDIA.dockerList,
    manifests: entries.map((e) => ({
      mediaType: e.mediaType,
      size: e.size,
      digest: e.digest,
      platform: { architecture: e.architecture, os: e.os },
    })),
  };
  return JSON.stringify(list, null, 2);
}

export function sha256Digest(body: string | Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(body).digest('hex')}`;
}
