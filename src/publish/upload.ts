import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import type { Docker } from '../adapters/docker';
import { MEDIA } from './manifest';
import type { RegistryClient } from './registry';
import { listTar, readEntry } from './tar';

export interface PushedImage {
  digest: string;
  size: number;
  mediaType: string;
  /** Digest of the image config: equals the local image ID that was verified. */
  configDigest: string;
}

const CONFIG_MEDIA = 'application/vnd.docker.container.image.v1+json';
const LAYER_CONCURRENCY = 3;

/** Like Promise.all over items, with at most `limit` running at once. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
const LAYER_MEDIA = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** Gzips one tar entry to a file, hashing the compressed bytes on the way. */
async function gzipEntry(tarPath: string, offset: number, size: number, out: string): Promise<{ digest: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let written = 0;
  const source = size === 0 ? fs.createReadStream('/dev/null') : fs.createReadStream(tarPath, { start: offset, end: offset + size - 1 });
  const gz = zlib.createGzip({ level: 6 });
  gz.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    written += chunk.length;
  });
  await pipeline(source, gz, fs.createWriteStream(out));
  return { digest: `sha256:${hash.digest('hex')}`, size: written };
}

/**
 * Pushes a local image to the registry by digest alone: no tag is created, so nothing a user can
 * pull changes until the manifest list is tagged. (`docker push` can only push a tag.) The image
 * is read from `docker save`; its config is uploaded as is, so the pushed config digest is the
 * very image ID that was verified.
 */
export async function pushByDigest(docker: Docker, client: RegistryClient, ref: string, workDir: string, log: (s: string) => void): Promise<PushedImage> {
  const dir = fs.mkdtempSync(path.join(workDir, 'push-'));
  try {
    const tarPath = path.join(dir, 'image.tar');
    await docker.ok(['save', '--output', tarPath, ref]);
    const entries = listTar(tarPath);
    const manifestEntry = entries.get('manifest.json');
    if (!manifestEntry) throw new Error(`docker save of ${ref} has no manifest.json`);
    const [saved] = JSON.parse(readEntry(tarPath, manifestEntry).toString('utf8')) as Array<{ Config: string; Layers: string[] }>;
    const resolve = (name: string) => {
      let e = entries.get(name);
      // docker save may link a repeated layer to its first copy
      for (let hops = 0; e?.link && hops < 8; hops++) e = entries.get(path.posix.join(path.posix.dirname(name), e.link)) ?? entries.get(e.link);
      if (!e) throw new Error(`docker save of ${ref} lacks ${name}`);
      return e;
    };

    const configEntry = resolve(saved.Config);
    const config = readEntry(tarPath, configEntry);
    const configDigest = `sha256:${crypto.createHash('sha256').update(config).digest('hex')}`;
    await client.uploadBlob(configDigest, tarPath, configEntry.offset, configEntry.size);

    // Layers are compressed and uploaded a few at a time, as docker push does; order is kept.
    const layers = await mapLimit(saved.Layers, LAYER_CONCURRENCY, async (name, i) => {
      const e = resolve(name);
      const gz = path.join(dir, `layer-${i}.gz`);
      const { digest, size } = await gzipEntry(tarPath, e.offset, e.size, gz);
      await client.uploadBlob(digest, gz, 0, size);
      fs.rmSync(gz);
      log(`  layer ${i + 1}/${saved.Layers.length} ${digest} (${(size / 1e6).toFixed(1)} MB)`);
      return { mediaType: LAYER_MEDIA, size, digest };
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: CONFIG_MEDIA, size: config.length, digest: configDigest },
      layers,
    });
    const digest = `sha256:${crypto.createHash('sha256').update(manifest).digest('hex')}`;
    const stored = await client.putManifest(digest, MEDIA.dockerManifest, manifest);
    if (stored && stored !== digest) throw new Error(`registry stored the manifest of ${ref} as ${stored}, expected ${digest}`);
    return { digest, size: Buffer.byteLength(manifest), mediaType: MEDIA.dockerManifest, configDigest };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
