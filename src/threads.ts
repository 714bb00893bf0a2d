import { availableCores } from './publish/pgzip';

/*
 * Node's async zlib runs on libuv's thread pool, which has 4 threads unless UV_THREADPOOL_SIZE
 * says otherwise, and reads that variable once, at the pool's first use. Layers are compressed
 * block by block on that pool, so it must be as wide as the machine before anything touches it:
 * this module is imported first by the entry point.
 */
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(4, availableCores()));
