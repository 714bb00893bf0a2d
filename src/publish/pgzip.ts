import * as os from 'os';
import { Transform, type TransformCallback } from 'stream';
import * as zlib from 'zlib';

/**
 * Block-parallel gzip: one valid gzip stream whose deflate blocks are compressed on every core.
 *
 * Input is cut into blocks; each block is deflated on libuv's thread pool (node's async zlib)
 * with the previous block's last 32 KiB as its dictionary, and ended with a sync flush, so the
 * pieces join into one deflate stream that any gunzip reads (the approach pigz takes). Output is
 * emitted in input order; at most `parallel` blocks are in flight, so memory stays bounded
 * whatever the layer size. The same input, level and block size always give the same bytes, so
 * a layer compressed twice gets the same digest.
 *
 * No npm package does this for node streams (the gzip packages wrap one zlib stream, one core).
 */
export interface ParallelGzipOptions {
  level?: number;
  /** Uncompressed bytes per block. */
  blockSize?: number;
  /** Blocks in flight at once (queued on the thread pool or being compressed). */
  parallel?: number;
}

const WINDOW = 32 * 1024;
// 10-byte gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (as Go's
// compress/gzip, and so docker push, writes it).
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

export const DEFAULT_BLOCK_SIZE = 1024 * 1024;

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function deflateBlock(data: Buffer, dictionary: Buffer | undefined, level: number, last: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // One output chunk as large as the block: the whole block is then one job on the thread pool.
    // (With zlib's default 16 KiB chunks every block went back and forth to the main thread
    // dozens of times, and the main thread, not the cores, set the pace.)
    const chunkSize = 256 * 1024;
    zlib.deflateRaw(data, { level, dictionary, chunkSize, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
}

export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly parallel: number;
  /** The block being filled, and how far. */
  private block: Buffer;
  private fill = 0;
  /** Block buffers whose compression is done, for reuse: a layer of gigabytes allocates a handful. */
  private readonly spare: Buffer[] = [];
  private dictionary: Buffer | undefined;
  private crc = 0;
  private total = 0;
  /** Compressions in flight, in input order. */
  private inflight: Promise<Buffer>[] = [];
  private headerSent = false;
  /** Uncompressed bytes taken in so far. */
  bytesIn = 0;
  /** Compressed bytes given out so far (header and trailer included). */
  bytesOut = 0;

  constructor(opts: ParallelGzipOptions = {}) {
    super();
    this.level = opts.level ?? 6;
    this.blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    // More blocks in flight than cores: a core that finishes a block finds the next one queued
    // instead of waiting for the oldest block to be emitted first.
    this.parallel = Math.max(1, opts.parallel ?? Math.max(6, 3 * availableCores()));
    this.block = Buffer.allocUnsafeSlow(this.blockSize);
  }

  private emit_(b: Buffer): void {
    this.bytesOut += b.length;
    this.push(b);
  }

  /** Hands `data` (the first `length` bytes of a block buffer) to the thread pool. */
  private startBlock(buffer: Buffer, length: number, last: boolean): void {
    const data = buffer.subarray(0, length);
    this.crc = zlib.crc32(data, this.crc);
    this.total += length;
    const dict = this.dictionary;
    // The next block's dictionary: a copy of this block's tail (the buffer will be reused).
    this.dictionary = length >= WINDOW ? Buffer.from(data.subarray(length - WINDOW)) : Buffer.concat([dict ?? Buffer.alloc(0), data]).subarray(-WINDOW);
    this.inflight.push(
      deflateBlock(data, dict, this.level, last).then((out) => {
        if (buffer.length === this.blockSize) this.spare.push(buffer);
        return out;
      }),
    );
  }

  /** Emits finished blocks from the head of the queue; waits for the head while the queue is full. */
  private async drain(all: boolean): Promise<void> {
    if (!this.headerSent) {
      this.headerSent = true;
      this.emit_(HEADER);
    }
    while (this.inflight.length > 0 && (all || this.inflight.length >= this.parallel)) {
      this.emit_(await this.inflight.shift()!);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytesIn += chunk.length;
    const work = async () => {
      let at = 0;
      while (at < chunk.length) {
        const n = chunk.copy(this.block, this.fill, at);
        at += n;
        this.fill += n;
        if (this.fill === this.blockSize) {
          this.startBlock(this.block, this.fill, false);
          this.block = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.blockSize);
          this.fill = 0;
          await this.drain(false);
        }
      }
    };
    work().then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.startBlock(this.block, this.fill, true);
    this.drain(true)
      .then(() => {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(this.crc >>> 0, 0);
        trailer.writeUInt32LE(this.total % 0x100000000, 4);
        this.emit_(trailer);
        cb();
      })
      .catch(cb);
  }
}
