import * as crypto from 'crypto';
import { once } from 'events';
import { PassThrough, Transform, type Readable, type Writable } from 'stream';
import { MEDIA, type Descriptor, type RegistryClient } from '../adapters/registry/client';
import { PhaseError } from '../errors';
import { ParallelGzip } from './pgzip';
import { formatBytes, formatRate, type Progress } from './progress';

/**
 * Uploads of one `docker save` entry while it is read: nothing is written to disk, and the
 * entry is always read to its end (the tar stream goes on to the next entry even when an
 * upload failed; the caller retries that layer on its next pass over the save).
 */

export interface UploadContext {
  client: RegistryClient;
  progress: Progress;
  log: (s: string) => void;
  level: number;
}

/** The outcome of reading one entry: the blob it became, or why not (it was still read through). */
export type EntryResult<T> = { ok: true; value: T } | { ok: false; error: Error };

const short = (d: string) => d.slice(7, 19);

/** Pipes a into b; a torn down before its end tears b down too, so the upload reading b stops. */
function link(a: Readable, b: Writable): void {
  a.pipe(b);
  a.on('close', () => {
    if (!a.readableEnded) b.destroy(new Error('the layer stream stopped before its end'));
  });
}

/**
 * Feeds `entry` into `sink` with backpressure, hashing and counting on the way, and keeps
 * reading to the end even after `sink` died (its upload failed).
 */
async function pump(entry: AsyncIterable<Buffer>, sink: PassThrough, onChunk: (c: Buffer) => void, dead: () => boolean, died: Promise<unknown>): Promise<void> {
  for await (const chunk of entry) {
    onChunk(chunk);
    if (dead()) continue;
    if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), died]);
  }
  if (!dead()) sink.end();
}

/**
 * Runs one upload that reads what `input` is fed from `entry`: starts it, feeds the entry
 * through, and settles both. A failed upload tears its streams down (`teardown`) and the entry
 * is still read to its end; a broken entry stops the upload before it can complete.
 */
async function feed(
  entry: AsyncIterable<Buffer>,
  input: PassThrough,
  start: () => Promise<void>,
  onChunk: (c: Buffer) => void,
  teardown: () => void,
): Promise<Error | undefined> {
  let failed = false;
  const upload = start().catch((e: Error) => {
    failed = true;
    input.destroy();
    teardown();
    throw e;
  });
  upload.catch(() => undefined); // awaited below; this only marks an early failure as handled
  const died = upload.then(
    () => new Promise(() => {}),
    () => undefined,
  );
  try {
    try {
      await pump(
        entry,
        input,
        (c) => !failed && onChunk(c),
        () => failed,
        died,
      );
    } catch (e) {
      input.destroy(e as Error); // the save stream broke: the upload must not complete
      throw e;
    }
    await upload;
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

/**
 * Compresses an uncompressed layer (block-parallel gzip on every core) and uploads it as it is
 * read, with a streamed PATCH. Hashes the uncompressed bytes too: when `expectedDiffId` is given
 * they must hash to it (the layer is the one the verified image's config names), else the upload
 * is abandoned before it is completed.
 */
export async function uploadCompressed(
  ctx: UploadContext,
  entry: AsyncIterable<Buffer>,
  size: number,
  expectedDiffId: string | undefined,
  label: string,
): Promise<EntryResult<{ diffId: string; desc: Descriptor }>> {
  const task = ctx.progress.start(label, size);
  const diffHash = crypto.createHash('sha256');
  const gzHash = crypto.createHash('sha256');
  let gzSize = 0;
  const input = new PassThrough({ highWaterMark: 1024 * 1024 });
  const gz = new ParallelGzip({ level: ctx.level });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      gzHash.update(chunk);
      gzSize += chunk.length;
      task.sent += chunk.length;
      cb(null, chunk);
    },
  });
  link(input, gz);
  link(gz, counter);

  let diffId = '';
  let digest = '';
  const error = await feed(
    entry,
    input,
    () =>
      ctx.client.pushStream(
        { stream: counter },
        () => {
          diffId = `sha256:${diffHash.digest('hex')}`;
          digest = `sha256:${gzHash.digest('hex')}`;
          if (expectedDiffId && diffId !== expectedDiffId) {
            throw new PhaseError(
              'publish',
              `${label}: the saved layer hashes to ${diffId}, not to ${expectedDiffId} as the verified image's config says; it was not published`,
            );
          }
          return digest;
        },
        `upload of ${label}`,
      ),
    (c) => {
      task.read += c.length;
      diffHash.update(c);
    },
    () => {
      gz.destroy();
      counter.destroy();
    },
  );
  task.end();
  if (error) return { ok: false, error };
  ctx.log(
    `  ${label}: ${short(digest)} ${formatBytes(size)} -> ${formatBytes(gzSize)} gzip in ${task.seconds.toFixed(1)}s (${formatRate(size, task.seconds)})`,
  );
  return { ok: true, value: { diffId, desc: { mediaType: MEDIA.dockerLayerGzip, digest, size: gzSize } } };
}

/**
 * Uploads a blob as it is stored (already compressed, named by its digest: the OCI layout of the
 * containerd image store), checking on the way that it hashes to its name.
 */
export async function uploadAsIs(
  ctx: UploadContext,
  entry: AsyncIterable<Buffer>,
  digest: string,
  size: number,
  label: string,
): Promise<EntryResult<Descriptor>> {
  const task = ctx.progress.start(label, size);
  const hash = crypto.createHash('sha256');
  const input = new PassThrough({ highWaterMark: 1024 * 1024 });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      task.sent += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${hash.digest('hex')}`;
      cb(got === digest ? null : new PhaseError('publish', `${label}: the saved blob hashes to ${got}, not to its name ${digest}; it was not published`));
    },
  });
  link(input, counter);
  const error = await feed(
    entry,
    input,
    () => ctx.client.putBlobStream(digest, { stream: counter, length: size }, `upload of ${label}`),
    (c) => {
      task.read += c.length;
      hash.update(c);
    },
    () => counter.destroy(),
  );
  task.end();
  if (error) return { ok: false, error };
  ctx.log(`  ${label}: ${short(digest)} ${formatBytes(size)} uploaded as stored in ${task.seconds.toFixed(1)}s (${formatRate(size, task.seconds)})`);
  return { ok: true, value: { mediaType: '', digest, size } };
}

/** Reads an entry to its end, keeping nothing. */
export async function drain(entry: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const c of entry) n += c.length;
  return n;
}

/** Reads a small entry whole. */
export async function readAll(entry: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of entry) chunks.push(c);
  return Buffer.concat(chunks);
}
