import * as crypto from 'crypto';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import { ParallelGzip } from '../../src/publish/pgzip';

/** Compressible, deterministic: half random, half repeated text. */
function data(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = i % 64 < 32 ? x & 0xff : 'the quick brown fox '.charCodeAt(i % 20);
  }
  return out;
}

async function compress(input: Buffer, opts: ConstructorParameters<typeof ParallelGzip>[0], chunk = 7000): Promise<{ out: Buffer; gz: ParallelGzip }> {
  const gz = new ParallelGzip(opts);
  const parts: Buffer[] = [];
  gz.on('data', (d: Buffer) => parts.push(d));
  const chunks = function* () {
    for (let i = 0; i < input.length; i += chunk) yield input.subarray(i, i + chunk);
  };
  await pipeline(Readable.from(chunks()), gz);
  return { out: Buffer.concat(parts), gz };
}

describe('ParallelGzip', () => {
  const BLOCK = 64 * 1024;
  test.each([
    { name: 'empty input', size: 0 },
    { name: 'one byte', size: 1 },
    { name: 'one byte short of a block', size: BLOCK - 1 },
    { name: 'exactly one block', size: BLOCK },
    { name: 'one byte over a block', size: BLOCK + 1 },
    { name: 'many blocks, more than run at once', size: BLOCK * 13 + 777 },
  ])('$name: gunzip gives the input back, and the gzip trailer (CRC, size) checks', async ({ size }) => {
    const input = data(size);
    const { out, gz } = await compress(input, { blockSize: BLOCK, parallel: 3 });
    expect(zlib.gunzipSync(out).equals(input)).toBe(true);
    expect(gz.bytesIn).toBe(size);
    expect(gz.bytesOut).toBe(out.length);
  });

  test('one gzip member, not several glued together', async () => {
    const { out } = await compress(data(BLOCK * 4), { blockSize: BLOCK });
    // A second member would start with the magic again after the first trailer.
    expect(out.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
    expect(out.indexOf(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]), 10)).toBe(-1);
  });

  test('same input, level and block size: the same bytes, whatever the chunking and parallelism', async () => {
    const input = data(BLOCK * 6 + 5);
    const a = await compress(input, { blockSize: BLOCK, parallel: 1 }, 1000);
    const b = await compress(input, { blockSize: BLOCK, parallel: 8 }, 65536);
    expect(crypto.createHash('sha256').update(a.out).digest('hex')).toBe(crypto.createHash('sha256').update(b.out).digest('hex'));
  });

  test('blocks share a dictionary: the output is within 1% of one zlib stream at the same level', async () => {
    const input = data(BLOCK * 16);
    const { out } = await compress(input, { blockSize: BLOCK, level: 6 });
    const single = zlib.gzipSync(input, { level: 6 });
    expect(out.length / single.length).toBeLessThan(1.01);
  });

  test.each([1, 9])('level %i round-trips', async (level) => {
    const input = data(BLOCK * 3);
    const { out } = await compress(input, { blockSize: BLOCK, level });
    expect(zlib.gunzipSync(out).equals(input)).toBe(true);
  });
});
