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
  /** Blocks compressed at once; defaults to the cores node may use. */
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
    zlib.deflateRaw(data, { level, dictionary, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly parallel: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
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
    this.parallel = Math.max(1, opts.parallel ?? availableCores());
  }

  private emit_(b: Buffer): void {
    this.bytesOut += b.length;
    this.push(b);
  }

  private startBlock(block: Buffer, last: boolean): void {
    this.crc = zlib.crc32(block, this.crc);
    this.total += block.length;
    const dict = this.dictionary;
    // The next block's dictionary: the tail of this one (a copy: `block` may be a view).
    this.dictionary = block.length >= WINDOW ? Buffer.from(block.subarray(block.length - WINDOW)) : Buffer.concat([dict ?? Buffer.alloc(0), block]).subarray(-WINDOW);
    this.inflight.push(deflateBlock(block, dict, this.level, last));
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
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const work = async () => {
      while (this.pendingBytes >= this.blockSize) {
        const all = Buffer.concat(this.pending, this.pendingBytes);
        let at = 0;
        while (all.length - at >= this.blockSize) {
          this.startBlock(all.subarray(at, at + this.blockSize), false);
          at += this.blockSize;
          await this.drain(false);
        }
        this.pending = at < all.length ? [all.subarray(at)] : [];
        this.pendingBytes = all.length - at;
      }
    };
    work().then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    const rest = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.startBlock(rest, true);
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
