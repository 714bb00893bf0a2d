import { MEDIA } from '../adapters/registry/client';

export { MEDIA };

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
