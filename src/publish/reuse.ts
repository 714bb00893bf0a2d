import { MEDIA, type Descriptor, type FetchedManifest, type RegistryClient } from '../adapters/registry/client';

/**
 * Which compressed blob each uncompressed layer (diff ID) became, learnt from what is already
 * published: an image manifest lists its layers' blobs in the order its config lists the diff
 * IDs, so the two read together pair them without compressing anything. With it, a layer the
 * registry already has costs a HEAD (or a cross-repository mount) instead of gzip and upload.
 */
export interface KnownBlob {
  desc: Descriptor;
  /** Repositories of the registry where it was seen. */
  repos: Set<string>;
}

/** A published platform image found while learning: its manifest and what it is made of. */
export interface KnownImage {
  repo: string;
  manifest: Descriptor;
  configDigest: string;
  os: string;
  architecture: string;
}

interface ManifestJson {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Array<Descriptor & { platform?: { os?: string; architecture?: string } }>;
}

interface ConfigJson {
  os?: string;
  architecture?: string;
  rootfs?: { diff_ids?: string[] };
}

/** Pairs layers with diff IDs; undefined when the two do not line up (then nothing is learnt from them). */
export function pairLayers(manifest: ManifestJson, config: ConfigJson): Array<{ diffId: string; desc: Descriptor }> | undefined {
  const layers = manifest.layers ?? [];
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (layers.length === 0 || layers.length !== diffIds.length) return undefined;
  return layers.map((l, i) => ({ diffId: diffIds[i], desc: { mediaType: l.mediaType, digest: l.digest, size: l.size } }));
}

export class BlobKnowledge {
  private readonly byDiff = new Map<string, KnownBlob>();
  readonly images: KnownImage[] = [];

  add(diffId: string, desc: Descriptor, repo: string): void {
    const known = this.byDiff.get(diffId);
    if (known && known.desc.digest === desc.digest) known.repos.add(repo);
    else if (!known) this.byDiff.set(diffId, { desc, repos: new Set([repo]) });
  }

  lookup(diffId: string): KnownBlob | undefined {
    return this.byDiff.get(diffId);
  }

  get size(): number {
    return this.byDiff.size;
  }

  /** A published image of this config (classic store: the config digest is the local image ID). */
  imageWithConfig(configDigest: string, repo: string): KnownImage | undefined {
    return this.images.find((i) => i.configDigest === configDigest && i.repo === repo);
  }

  /**
   * Learns from one fetched manifest (a tag's): for a list, the entries of the wanted
   * architectures (attestation entries, `unknown/unknown`, are skipped); then each image's config.
   * Failures cost only the reuse: they are reported and learning goes on.
   */
  async learn(client: RegistryClient, fetched: FetchedManifest, architectures: string[], warn: (s: string) => void): Promise<void> {
    const repo = client.repository;
    const json = fetched.json as ManifestJson;
    const images: Array<{ desc: Descriptor; json?: ManifestJson }> = [];
    if (Array.isArray(json.manifests)) {
      for (const m of json.manifests) {
        if (m.platform?.os === 'unknown' || (m.platform?.architecture && !architectures.includes(m.platform.architecture))) continue;
        images.push({ desc: { mediaType: m.mediaType, digest: m.digest, size: m.size } });
      }
    } else {
      images.push({ desc: { mediaType: fetched.mediaType || MEDIA.dockerManifest, digest: fetched.digest, size: fetched.body.length }, json });
    }
    for (const img of images) {
      try {
        if (this.images.some((i) => i.manifest.digest === img.desc.digest && i.repo === repo)) continue;
        const manifest = img.json ?? (await client.getManifest(img.desc.digest))?.json;
        if (!manifest?.config?.digest) continue;
        const config = await client.blobJson<ConfigJson>(manifest.config.digest);
        this.images.push({ repo, manifest: img.desc, configDigest: manifest.config.digest, os: config.os ?? '', architecture: config.architecture ?? '' });
        for (const p of pairLayers(manifest, config) ?? []) this.add(p.diffId, p.desc, repo);
      } catch (e) {
        warn(`could not read ${client.name}@${img.desc.digest} to reuse its layers: ${(e as Error).message}`);
      }
    }
  }
}
