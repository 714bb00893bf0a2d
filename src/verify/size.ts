import * as crypto from 'crypto';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import type { Docker } from '../adapters/docker';
import type { RegistryClient } from '../adapters/registry/client';
import { InputError, PhaseError } from '../errors';
import { parsePlatform } from '../plan/platforms';
import type { LocalImage } from '../publish/local-image';
import { drain } from '../publish/layer';
import { ParallelGzip } from '../publish/pgzip';
import { formatBytes } from '../publish/progress';
import { readSave, resolveSaved, SaveReading } from '../publish/save-reader';
import type { Finding } from './contract';

/*
 * The size check of a verified platform image: how big the push will make it (compressed, as
 * pulled), how big it unpacks (uncompressed), which layers weigh most and which instruction made
 * them, and how much it grew against the image the tag names now. Torch CUDA images are 5-10 GB:
 * a budget catches the build that doubled it before anyone pulls it.
 */

// ---------------------------------------------------------------------------------------------
// The budget input

/** One limit as the user wrote it (`text`, for messages) and its value (bytes, or percent for growth). */
export interface Limit {
  value: number;
  text: string;
}

export interface SizeLimits {
  compressed?: Limit;
  uncompressed?: Limit;
  /** Percent over the compressed size of the image published under the tag now. */
  growth?: Limit;
}

/** Limits for every platform, and per platform ones that win key by key. Both empty: no budget. */
export interface SizeBudget {
  all: SizeLimits;
  platforms: Record<string, SizeLimits>;
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
const SIZE_ACCEPTED = 'a number and a unit: B, kB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based), case-insensitive, for example 3GB or 1.5GiB';
const KEYS = ['compressed', 'uncompressed', 'growth'] as const;
const FORMAT =
  "KEY=VALUE pairs, compressed=SIZE uncompressed=SIZE growth=PERCENT%, for every platform, or after 'PLATFORM:' for one (for example 'compressed=3GB growth=10%; linux/arm64:compressed=1.5GB')";

function parseSize(raw: string, input: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-z]+)$/i.exec(raw);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || !unit) throw new InputError(input, `'${raw}' is not a size; accepted: ${SIZE_ACCEPTED}`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes <= 0) throw new InputError(input, `'${raw}' is not a size above zero`);
  return bytes;
}

function parsePercent(raw: string, input: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(raw);
  if (!m) throw new InputError(input, `'${raw}' is not a growth; accepted: a percentage of zero or more, for example 10% or 2.5%`);
  return Number(m[1]);
}

/**
 * `compressed=3GB uncompressed=8GB growth=10%` for every platform; `linux/arm64: compressed=1.5GB`
 * (on its own line, or after `;`) for one, whose keys win over the all-platform ones. Pairs are
 * separated by spaces or commas. On one YAML line write `linux/arm64:compressed=1.5GB`: a colon
 * followed by a space would start a YAML mapping (build-args uses the same form).
 * Hand-written: the syntax is the action's own, in the style of `expect` and `build-args`.
 */
export function parseSizeBudget(raw: string, input = 'size-budget'): SizeBudget {
  const budget: SizeBudget = { all: {}, platforms: {} };
  for (const line of raw
    .split(/[\n;]/)
    .map((l) => l.trim())
    .filter(Boolean)) {
    const scoped = /^([a-z0-9_]+\/[a-z0-9_/]+)\s*:\s*(.*)$/i.exec(line);
    const platform = scoped ? parsePlatform(scoped[1], input).platform : undefined;
    const body = (scoped ? scoped[2] : line)
      .replace(/\s*=\s*/g, '=')
      // "1.5 GB" reads as one value: join a number and the unit after it.
      .replace(/(\d)\s+(?=(?:b|kb|mb|gb|kib|mib|gib|%)(?:[\s,]|$))/gi, '$1');
    const pairs = body.split(/[\s,]+/).filter(Boolean);
    if (pairs.length === 0) throw new InputError(input, `'${line}' names a platform and no limit; accepted: ${FORMAT}`);
    const limits = platform ? (budget.platforms[platform] ??= {}) : budget.all;
    for (const pair of pairs) {
      const kv = /^([a-z-]+)=(.*)$/i.exec(pair);
      if (!kv) throw new InputError(input, `'${pair}' in '${line}' is not KEY=VALUE; accepted: ${FORMAT}`);
      const key = kv[1].toLowerCase() as (typeof KEYS)[number];
      if (!KEYS.includes(key)) throw new InputError(input, `'${kv[1]}' in '${line}' is not a limit; accepted: compressed, uncompressed, growth`);
      if (limits[key]) throw new InputError(input, `${key} is given twice for ${platform ?? 'every platform'}`);
      limits[key] = { value: key === 'growth' ? parsePercent(kv[2], input) : parseSize(kv[2], input), text: kv[2] };
    }
  }
  return budget;
}

/** The limits that hold for one platform. */
export function budgetFor(budget: SizeBudget, platform: string): SizeLimits {
  return { ...budget.all, ...budget.platforms[platform] };
}

// ---------------------------------------------------------------------------------------------
// Layer history: which instruction made which layer

/** One step of an image's history, oldest first. */
export interface HistoryEntry {
  /** Cleaned: `RUN pip install …`, `COPY . /app`, `ENV A=b`. */
  instruction: string;
  /** What the engine counts for the step's layer: its files' bytes (0 for a layer of only directories or deletions). Absent in a config's history. */
  size?: number;
  /** From the image config: whether the step left no layer. `docker history` does not print it. */
  emptyLayer?: boolean;
  /** Written by BuildKit's Dockerfile frontend (comment `buildkit.dockerfile.v0`) or its exporter. */
  buildkit: boolean;
}

/** `docker history` as JSON lines with exact byte sizes (`--human=false`; Docker 20.10 and later). */
export function historyArgs(ref: string): string[] {
  return ['history', '--no-trunc', '--human=false', '--format', '{{json .}}', ref];
}

/**
 * The instruction as a user wrote it, from what builders record: the legacy builder writes
 * `/bin/sh -c #(nop)  ENV A=b` and `/bin/sh -c apt-get …`, BuildKit `RUN /bin/sh -c apt-get … # buildkit`;
 * both put the build args of a RUN first (`|2 A=1 B=2 /bin/sh -c …`). Those are dropped: they are
 * long, and a build arg may hold a value that has no place in a job summary.
 */
export function cleanInstruction(createdBy: string): string {
  let s = createdBy
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/ # buildkit$/, '');
  const run = /^(RUN )?\|(\d+) (.*)$/.exec(s);
  if (run) {
    const at = run[3].indexOf('/bin/sh -c ');
    // Values may hold spaces, so the shell is the reliable end of the list; exec-form RUNs have none.
    s = (run[1] ?? '') + (at >= 0 ? run[3].slice(at) : run[3].split(' ').slice(Number(run[2])).join(' '));
  }
  const nop = /^\/bin\/sh -c #\(nop\) ?(.*)$/.exec(s);
  if (nop) return nop[1].trim();
  const sh = /^(?:RUN )?\/bin\/sh -c (.*)$/.exec(s);
  if (sh) return `RUN ${sh[1]}`;
  return s;
}

const isBuildkit = (comment: unknown) => typeof comment === 'string' && comment.startsWith('buildkit.');

/** Docker's own human sizes (1000-based), as `docker history` prints them without `--human=false`. */
function historySize(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  const m = /^(\d+(?:\.\d+)?)\s*([kMGTP]?B)?$/.exec(String(raw).trim());
  if (!m) throw new Error(`docker history printed a size '${String(raw)}' that is not one`);
  return Math.round(Number(m[1]) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 }[m[2] ?? 'B'] ?? 1));
}

/** `docker history --format '{{json .}}'` output (newest first), oldest first. */
export function parseHistory(stdout: string): HistoryEntry[] {
  const entries = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      let j: { CreatedBy?: string; Size?: string | number; Comment?: string };
      try {
        j = JSON.parse(line) as typeof j;
      } catch {
        throw new Error(`docker history printed a line that is not JSON: ${line.slice(0, 200)}`);
      }
      return { instruction: cleanInstruction(j.CreatedBy ?? ''), size: historySize(j.Size ?? 0), buildkit: isBuildkit(j.Comment) };
    });
  return entries.reverse();
}

/** The `history` of an image config (oldest first), with the `empty_layer` marks the engine itself goes by. */
export function parseConfigHistory(config: unknown): HistoryEntry[] {
  const history = (config as { history?: Array<{ created_by?: string; comment?: string; empty_layer?: boolean }> } | undefined)?.history ?? [];
  return history.map((h) => ({ instruction: cleanInstruction(h.created_by ?? ''), emptyLayer: h.empty_layer === true, buildkit: isBuildkit(h.comment) }));
}

/** A layer of an image and, when it can be told, the history step that made it. */
export interface LayerOrigin {
  diffId: string;
  instruction?: string;
  /** The step's size as the engine counts it (files' bytes), when from `docker history`. */
  size?: number;
}

/** Instructions that only change the config: never a layer, whichever builder ran them. */
const METADATA = new Set([
  'ENV',
  'LABEL',
  'CMD',
  'ENTRYPOINT',
  'EXPOSE',
  'USER',
  'ARG',
  'VOLUME',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
  'ONBUILD',
  'MAINTAINER',
]);

type Made = 'layer' | 'none' | 'maybe';

function madeLayer(e: HistoryEntry): Made {
  if (e.emptyLayer !== undefined) return e.emptyLayer ? 'none' : 'layer';
  if ((e.size ?? 0) > 0) return 'layer';
  const word = e.instruction.split(' ')[0].toUpperCase();
  if (METADATA.has(word)) return 'none';
  // BuildKit commits a layer for every RUN, COPY and ADD even when nothing changed.
  if (e.buildkit && ['RUN', 'COPY', 'ADD'].includes(word)) return 'layer';
  return 'maybe';
}

/**
 * Pairs history steps with layers (diff IDs, oldest first), as the engine does: the n-th step
 * that made a layer made the n-th layer. Whether a step made one is exact in a config's history
 * (`empty_layer`), which `docker history` does not print, so from it:
 * - a step of size above 0 made a layer; a metadata instruction (ENV, LABEL, CMD, …) did not;
 * - a BuildKit RUN, COPY or ADD made one even at size 0 (BuildKit keeps empty layers);
 * - any other step of size 0 may have: a WORKDIR that created a directory, or a RUN that only
 *   deleted files, leaves a layer of 0 bytes; the legacy builder drops a step that changed nothing
 *   (RUN true, WORKDIR of an existing directory), and BuildKit keeps a WORKDIR other than `/`.
 * When the undecided steps must all be layers, or none, to make up the count, that settles it.
 * Otherwise a layer gets its step only where every choice among the undecided steps gives it the
 * same one (the layers below the first undecided step and above the last), and no instruction
 * where not. If the steps cannot make up the count at all, no layer gets one.
 */
export function alignHistory(entries: HistoryEntry[], diffIds: string[]): LayerOrigin[] {
  const made = entries.map(madeLayer);
  const sure = made.filter((m) => m === 'layer').length;
  const undecided = made.filter((m) => m === 'maybe').length;
  const needed = diffIds.length - sure;
  const out: LayerOrigin[] = diffIds.map((diffId) => ({ diffId }));
  if (needed < 0 || needed > undecided) return out;
  const settled = needed === 0 || needed === undecided;
  let layersBefore = 0;
  let undecidedBefore = 0;
  entries.forEach((e, i) => {
    const isLayer = made[i] === 'layer' || (made[i] === 'maybe' && needed === undecided);
    if (made[i] === 'maybe' && !settled) {
      undecidedBefore++;
      return;
    }
    if (!isLayer) return;
    // Its layer index if the first `needed` undecided steps made layers, and if the last ones did.
    const undecidedAfter = undecided - undecidedBefore;
    const early = layersBefore + (settled ? 0 : Math.min(needed, undecidedBefore));
    const late = layersBefore + (settled ? 0 : Math.max(0, needed - undecidedAfter));
    if (early === late) out[early] = { ...out[early], instruction: e.instruction, ...(e.size !== undefined ? { size: e.size } : {}) };
    layersBefore++;
  });
  return out;
}

/** The `docker history` of a local image, paired with its layers (the image's diff IDs, from an inspect the caller made). */
export async function layerOrigins(docker: Docker, ref: string, diffIds: string[]): Promise<LayerOrigin[]> {
  return alignHistory(parseHistory(await docker.ok(historyArgs(ref))), diffIds);
}

// ---------------------------------------------------------------------------------------------
// Measuring a local image as the push would send it

export interface MeasuredLayer {
  /** 1-based position in the image, bottom first. */
  index: number;
  diffId: string;
  /** Bytes of the layer as pushed: our gzip at the push's level (classic store), or the stored blob (containerd store). */
  compressed: number;
  /** The blob digest the push gives the layer. */
  digest: string;
  /** Bytes of the layer's tar; unknown for a stored blob compressed with something other than gzip. */
  uncompressed?: number;
}

export interface MeasuredImage {
  ref: string;
  id: string;
  /** "linux/amd64", from the image itself. */
  platform: string;
  /** classic: layers compressed here as the push compresses them; containerd: blobs as stored (pushed as they are). */
  store: 'classic' | 'containerd';
  level: number;
  layers: MeasuredLayer[];
  /** Bytes of the config blob. */
  config: number;
  /** Layers and config as pushed: what a pull downloads. */
  compressed: number;
  /** Layer tars together; unknown when one layer's is. */
  uncompressed?: number;
  /** The image config's history: it pairs with the layers exactly (alignHistory). */
  history: HistoryEntry[];
  seconds: number;
}

/** "linux/arm64" from an image's or a list entry's platform fields; the action's own name where it has one. */
export function platformName(os: string, architecture: string, variant?: string): string {
  const raw = `${os}/${architecture}${variant ? `/${variant}` : ''}`;
  try {
    return parsePlatform(raw).platform;
  } catch {
    return raw;
  }
}

/** Gzips a layer as the push does (same compressor, level, block size: the same bytes) and counts. */
async function gzipCount(
  body: AsyncIterable<Buffer>,
  level: number,
  hashInput: boolean,
): Promise<{ compressed: number; digest: string; uncompressed: number; diffId?: string }> {
  const out = crypto.createHash('sha256');
  const input = hashInput ? crypto.createHash('sha256') : undefined;
  let compressed = 0;
  let uncompressed = 0;
  await pipeline(
    async function* () {
      for await (const c of body) {
        uncompressed += c.length;
        input?.update(c);
        yield c;
      }
    },
    new ParallelGzip({ level }),
    async (gz: AsyncIterable<Buffer>) => {
      for await (const c of gz) {
        out.update(c);
        compressed += c.length;
      }
    },
  );
  return { compressed, digest: `sha256:${out.digest('hex')}`, uncompressed, ...(input ? { diffId: `sha256:${input.digest('hex')}` } : {}) };
}

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Reads a stored blob to its end; its uncompressed bytes when it is gzip (others are left unknown). */
async function gunzipCount(body: AsyncIterable<Buffer>): Promise<number | undefined> {
  const it = body[Symbol.asyncIterator]();
  const head = await it.next();
  if (head.done) return undefined;
  const rest = async function* () {
    yield head.value;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  };
  if (!isGzip(head.value)) {
    await drain(rest());
    return undefined;
  }
  let n = 0;
  await pipeline(rest, zlib.createGunzip(), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) n += c.length;
  });
  return n;
}

/**
 * Reads `docker save` of a local image once, writing nothing to disk, and gives each layer's
 * size as our push would send it: classic store layers are gzipped with the push's compressor
 * at `level` (as long as the push's compression takes: the image is compressed once here and
 * again when pushed), containerd store blobs are counted as stored (the push sends them as they
 * are). The config's history comes along, so layers pair with instructions exactly.
 */
export async function measureCompressed(docker: Docker, ref: string, level: number, signal?: AbortSignal): Promise<MeasuredImage> {
  const t0 = Date.now();
  const inspected = await docker.inspectImage(ref);
  const image: LocalImage = { ref, ...inspected };
  const platform = platformName(image.os, image.architecture, image.variant);
  const gzipped = new Map<string, { compressed: number; digest: string; uncompressed: number }>();
  const gunzipped = new Map<string, number | undefined>();
  const st = new SaveReading();
  await readSave(
    docker,
    image,
    st,
    {
      layer: async (body, _size, expected) => {
        const r = await gzipCount(body, level, expected === undefined);
        const diffId = expected ?? r.diffId!;
        gzipped.set(diffId, r);
        return diffId;
      },
      blob: async (body, digest) => {
        gunzipped.set(digest, await gunzipCount(body));
      },
    },
    { label: platform, phase: 'verify', signal },
  );
  const saved = resolveSaved(st, image, platform, 'verify');
  const history = parseConfigHistory(JSON.parse(saved.config.toString('utf8')));
  let layers: MeasuredLayer[];
  let config: number;
  if (saved.store === 'classic') {
    config = saved.config.length;
    layers = saved.layers.map((l, i) => {
      const g = gzipped.get(l.diffId);
      if (!g) throw new PhaseError('verify', `${platform}: docker save of ${ref} did not hold layer ${i + 1} (${l.diffId})`);
      return { index: i + 1, diffId: l.diffId, compressed: g.compressed, digest: g.digest, uncompressed: g.uncompressed };
    });
  } else {
    config = saved.manifest.config.size;
    const diffIds = (JSON.parse(saved.config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
    layers = [];
    for (const [i, l] of saved.manifest.layers.entries()) {
      const small = st.blobs.get(l.digest);
      const plain = /tar$/.test(l.mediaType);
      // Small blobs were kept whole by the read; they are counted the same streaming way (a small gzip may unpack huge).
      const uncompressed = plain ? l.size : small ? await gunzipCount(Readable.from([small])) : gunzipped.get(l.digest);
      layers.push({ index: i + 1, diffId: diffIds[i] ?? '', compressed: l.size, digest: l.digest, ...(uncompressed !== undefined ? { uncompressed } : {}) });
    }
  }
  const known = layers.every((l) => l.uncompressed !== undefined);
  return {
    ref,
    id: image.id,
    platform,
    store: saved.store,
    level,
    layers,
    config,
    compressed: config + layers.reduce((a, l) => a + l.compressed, 0),
    ...(known ? { uncompressed: layers.reduce((a, l) => a + l.uncompressed!, 0) } : {}),
    history,
    seconds: (Date.now() - t0) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// The image published now

export interface PublishedPlatform {
  /** The platform image's manifest digest. */
  digest: string;
  /** Layers and config, as the manifest lists them: what a pull downloads. */
  compressed: number;
  config: number;
  layers: number[];
}

export interface PublishedSizes {
  /** registry/repository:tag */
  ref: string;
  /** What the tag names. */
  digest: string;
  /** Platform images of the list by platform ("linux/arm64"); attestation entries left out. */
  platforms: Record<string, PublishedPlatform>;
  /**
   * A tag naming one image manifest, not a list. Its platform is only in its config blob, which
   * is not read, so it is not compared with any platform.
   */
  single?: PublishedPlatform;
}

interface ManifestJson {
  config?: { size?: number };
  layers?: Array<{ size?: number }>;
  manifests?: Array<{ digest: string; platform?: { os?: string; architecture?: string; variant?: string } }>;
}

/** The sizes an image manifest lists. Pure. */
export function manifestSizes(digest: string, json: ManifestJson): PublishedPlatform {
  const layers = (json.layers ?? []).map((l) => l.size ?? 0);
  const config = json.config?.size ?? 0;
  return { digest, compressed: config + layers.reduce((a, b) => a + b, 0), config, layers };
}

/**
 * Sizes of the image a tag names now, from its manifest list and platform manifests alone: no
 * blob is read. Undefined when the tag does not exist (a first release).
 */
export async function publishedSizes(client: RegistryClient, tag: string): Promise<PublishedSizes | undefined> {
  const top = await client.getManifest(tag);
  if (!top) return undefined;
  const ref = `${client.name}:${tag}`;
  const json = top.json as ManifestJson;
  if (!Array.isArray(json.manifests)) return { ref, digest: top.digest, platforms: {}, single: manifestSizes(top.digest, json) };
  const platforms: Record<string, PublishedPlatform> = {};
  for (const m of json.manifests) {
    // BuildKit's attestations sit in the list as unknown/unknown.
    if (!m.platform || m.platform.os === 'unknown') continue;
    const fetched = await client.getManifest(m.digest);
    if (!fetched || Array.isArray((fetched.json as ManifestJson).manifests)) continue;
    platforms[platformName(m.platform.os ?? '', m.platform.architecture ?? '', m.platform.variant)] = manifestSizes(m.digest, fetched.json);
  }
  return { ref, digest: top.digest, platforms };
}

// ---------------------------------------------------------------------------------------------
// The check and its report

export interface LayerSize {
  index: number;
  compressed?: number;
  uncompressed?: number;
  instruction?: string;
}

/** The `n` largest layers by `by`, largest first; equal ones in image order. */
export function largestLayers<T extends LayerSize>(layers: T[], n: number, by: 'compressed' | 'uncompressed' = 'compressed'): T[] {
  return [...layers].sort((a, b) => (b[by] ?? -1) - (a[by] ?? -1) || a.index - b.index).slice(0, Math.max(0, n));
}

export interface SizeReport {
  platform: string;
  /**
   * Layers and config as pushed. Measured before publishing when the budget limits it (or the
   * growth); otherwise read from the pushed manifest afterwards, and absent when nothing was pushed.
   */
  compressed?: number;
  uncompressed?: number;
  layers: number;
  /** How compressed sizes were had: our gzip at `level`, the containerd store's blobs as stored, or the pushed manifest. */
  compressedBy?: 'gzip' | 'stored' | 'pushed';
  level: number;
  largestLayers: LayerSize[];
  published?: { ref: string; digest: string; compressed: number };
  /** Percent of compressed growth over the published image; negative when it shrank. */
  growthPercent?: number;
  budget: SizeLimits;
  passed: boolean;
  seconds: number;
}

const bytesText = (n: number) => `${formatBytes(n)} (${n} bytes)`;
const percentText = (p: number) => `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;

/**
 * Compares a measured platform image with its budget, and with the image the tag names now
 * (`published`, undefined on a first release: no growth then). Pure.
 */
export function checkSize(
  measured: MeasuredImage,
  budget: SizeBudget,
  published: PublishedSizes | undefined,
  top = 5,
): { findings: Finding[]; report: SizeReport } {
  const limits = budgetFor(budget, measured.platform);
  const findings: Finding[] = [];
  if (limits.compressed && measured.compressed > limits.compressed.value) {
    findings.push({ check: 'compressed size', expected: `at most ${limits.compressed.text}`, actual: bytesText(measured.compressed) });
  }
  if (limits.uncompressed) {
    if (measured.uncompressed === undefined)
      findings.push({ check: 'uncompressed size', expected: `at most ${limits.uncompressed.text}`, actual: 'unknown: a stored layer is not gzip' });
    else if (measured.uncompressed > limits.uncompressed.value)
      findings.push({ check: 'uncompressed size', expected: `at most ${limits.uncompressed.text}`, actual: bytesText(measured.uncompressed) });
  }
  const before = published?.platforms[measured.platform];
  const growth = before && before.compressed > 0 ? ((measured.compressed - before.compressed) / before.compressed) * 100 : undefined;
  if (limits.growth && growth !== undefined && growth > limits.growth.value) {
    findings.push({
      check: 'size growth',
      expected: `at most +${limits.growth.text} over ${published!.ref} (${formatBytes(before!.compressed)})`,
      actual: `${percentText(growth)} (${formatBytes(measured.compressed)})`,
    });
  }
  const origins = alignHistory(
    measured.history,
    measured.layers.map((l) => l.diffId),
  );
  const sized = measured.layers.map((l, i) => ({
    index: l.index,
    compressed: l.compressed,
    ...(l.uncompressed !== undefined ? { uncompressed: l.uncompressed } : {}),
    ...(origins[i]?.instruction !== undefined ? { instruction: origins[i].instruction } : {}),
  }));
  const report: SizeReport = {
    platform: measured.platform,
    compressed: measured.compressed,
    ...(measured.uncompressed !== undefined ? { uncompressed: measured.uncompressed } : {}),
    layers: measured.layers.length,
    compressedBy: measured.store === 'classic' ? 'gzip' : 'stored',
    level: measured.level,
    largestLayers: largestLayers(sized, top),
    ...(before ? { published: { ref: published.ref, digest: before.digest, compressed: before.compressed } } : {}),
    ...(growth !== undefined ? { growthPercent: Math.round(growth * 10) / 10 } : {}),
    budget: limits,
    passed: findings.length === 0,
    seconds: measured.seconds,
  };
  return { findings, report };
}

const cell = (s: string) => s.replace(/\|/g, '\\|');
const code = (s: string, max = 80) => {
  const short = s.length > max ? `${s.slice(0, max - 1)}…` : s;
  return `\`${cell(short.replace(/`/g, "'"))}\``;
};

function budgetText(b: SizeLimits): string {
  const parts = [
    b.compressed && `compressed ≤ ${b.compressed.text}`,
    b.uncompressed && `uncompressed ≤ ${b.uncompressed.text}`,
    b.growth && `growth ≤ +${b.growth.text}`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : '-';
}

/** Markdown for the job summary: a row per platform, then each platform's largest layers. Pure. */
export function sizeMarkdown(reports: SizeReport[]): string {
  if (reports.length === 0) return '';
  const lines = [
    '#### image size',
    '',
    '| platform | compressed | uncompressed | published | growth | budget | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of reports) {
    lines.push(
      `| ${r.platform} | ${r.compressed !== undefined ? formatBytes(r.compressed) : '-'} | ${r.uncompressed !== undefined ? formatBytes(r.uncompressed) : '-'} | ${r.published ? formatBytes(r.published.compressed) : '-'} | ${r.growthPercent !== undefined ? percentText(r.growthPercent) : '-'} | ${cell(budgetText(r.budget))} | ${r.passed ? 'passed' : 'over budget'} |`,
    );
  }
  for (const r of reports) {
    if (r.largestLayers.length === 0) continue;
    lines.push('', `largest layers of ${r.platform}:`, '', '| layer | compressed | uncompressed | instruction |', '| --- | --- | --- | --- |');
    for (const l of r.largestLayers) {
      lines.push(
        `| ${l.index}/${r.layers} | ${l.compressed !== undefined ? formatBytes(l.compressed) : '-'} | ${l.uncompressed !== undefined ? formatBytes(l.uncompressed) : '-'} | ${l.instruction !== undefined ? code(l.instruction) : '(not known)'} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
