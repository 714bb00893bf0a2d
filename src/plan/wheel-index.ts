import { InputError } from '../errors';
import { compareReleases, cudaOfVariant, TORCH_TABLE } from './compat';
import { indexUrl, type Expectation } from './torch';

/**
 * The index preflight: what the variant's wheel index really holds for torch, torchaudio (and
 * torchvision) on each platform, read from the wheel file names. Pure: pages come from a PageSource
 * (src/adapters/simple-index.ts on a runner, constructed pages in the unit tests).
 */

// ---------------------------------------------------------------------------------------------
// Wheel file names (PEP 427)
// ---------------------------------------------------------------------------------------------

/** A wheel file name taken apart: name-version(-build)?-python-abi-platform.whl. */
export interface WheelName {
  filename: string;
  /** Normalised (PEP 503): lower case, runs of '-', '_' and '.' as one '-'. */
  project: string;
  /** As written in the name, local tag included: 2.2.2+cu121. */
  version: string;
  build?: string;
  /** Compressed tag sets expanded: 'cp38.cp39' is two tags. */
  python: string[];
  abi: string[];
  platform: string[];
}

/** PEP 503 name normalisation. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Hand-written on purpose: no maintained wheel-name parser is among the installed packages, and
 * the grammar is five or six '-'-separated fields (PEP 427 escapes '-' inside each field as '_'),
 * so a split is the whole parser. Returns null for anything that is not a wheel file name.
 */
export function parseWheelName(filename: string): WheelName | null {
  if (!filename.toLowerCase().endsWith('.whl')) return null;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [name, version] = parts;
  const build = parts.length === 6 ? parts[2] : undefined;
  const [python, abi, platform] = parts.slice(-3).map((t) => t.split('.'));
  if (!name || !/^\d/.test(version) || (build !== undefined && !/^\d/.test(build))) return null;
  if ([...python, ...abi, ...platform].some((t) => !/^[A-Za-z0-9_]+$/.test(t))) return null;
  return { filename, project: normalizeName(name), version, ...(build !== undefined ? { build } : {}), python, abi, platform };
}

export type WheelArch = 'x86_64' | 'aarch64';

/** The Linux architecture a wheel installs on (glibc Linux platform tags only), or null. */
export function wheelArch(w: WheelName): WheelArch | null {
  for (const p of w.platform) {
    const m = /^(?:linux|manylinux\d+|manylinux_\d+_\d+)_(x86_64|aarch64)$/.exec(p);
    if (m) return m[1] as WheelArch;
  }
  return null;
}

/**
 * The CPython versions a wheel installs on, as '3.11' / '3.13t' (free-threaded ABI), '3.9+' for a
 * stable-ABI (abi3) wheel, or 'py3' for a pure Python one.
 */
export function wheelPythons(w: WheelName): string[] {
  const out = new Set<string>();
  for (const py of w.python) {
    for (const abi of w.abi) {
      const cp = /^cp3(\d+)$/.exec(py);
      if (cp) {
        if (abi === `cp3${cp[1]}t`) out.add(`3.${cp[1]}t`);
        else if (abi === 'abi3') out.add(`3.${cp[1]}+`);
        else if (abi === `cp3${cp[1]}` || abi === `cp3${cp[1]}m` || abi === 'none') out.add(`3.${cp[1]}`);
      } else if (/^py3\d*$/.test(py) && abi === 'none') {
        out.add('py3');
      }
    }
  }
  return [...out];
}

/** Whether a wheel installs on CPython `python` ('3.11', '3.13t'). */
export function supportsPython(w: WheelName, python: string): boolean {
  const asked = /^3\.(\d+)(t?)$/.exec(python);
  if (!asked) return false;
  return wheelPythons(w).some((p) => {
    if (p === python || p === 'py3') return true;
    const abi3 = /^3\.(\d+)\+$/.exec(p);
    return abi3 !== null && asked[2] === '' && Number(abi3[1]) <= Number(asked[1]);
  });
}

function pythonOrder(a: string, b: string): number {
  const n = (s: string) => Number(/^3\.(\d+)/.exec(s)?.[1] ?? 0);
  return n(a) - n(b) || a.localeCompare(b);
}

// ---------------------------------------------------------------------------------------------
// Index pages (PEP 691 JSON, PEP 503 HTML)
// ---------------------------------------------------------------------------------------------

/** One file an index page lists. */
export interface IndexFile {
  filename: string;
  /** Absolute, resolved against the page. */
  url: string;
  yanked: boolean;
}

export interface IndexPage {
  /** The project page's URL, as asked. */
  url: string;
  format: 'json' | 'html';
  files: IndexFile[];
}

export const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

/** PEP 691: {meta: {api-version: '1.x'}, name, files: [{filename, url, hashes, yanked?}]}. Throws on another shape. */
export function parseJsonPage(text: string, pageUrl: string): IndexFile[] {
  const doc = JSON.parse(text) as { meta?: { 'api-version'?: unknown }; files?: unknown };
  const version = doc?.meta?.['api-version'];
  if (typeof version !== 'string' || !/^1\.\d+$/.test(version)) throw new Error(`not a PEP 691 page: api-version ${JSON.stringify(version)}, expected 1.x`);
  if (!Array.isArray(doc.files)) throw new Error('not a PEP 691 page: no files list');
  return doc.files.flatMap((f: { filename?: unknown; url?: unknown; yanked?: unknown }) => {
    if (typeof f?.filename !== 'string' || typeof f.url !== 'string') return [];
    return [{ filename: f.filename, url: new URL(f.url, pageUrl).toString(), yanked: f.yanked !== undefined && f.yanked !== false }];
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ENTITIES[e.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out[m[1].toLowerCase()] = unescapeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/**
 * PEP 503: every file is an anchor whose text is the file name and whose href is its URL (maybe
 * relative, maybe with a #sha256= fragment); data-yanked marks a yanked file; a <base> may move
 * the base URL. Hand-written because no HTML parser is among the installed packages and the
 * format is only anchors: one pattern for the tag, one for its attributes, and entity decoding.
 */
export function parseHtmlPage(text: string, pageUrl: string): IndexFile[] {
  const base = /<base\b([^>]*)>/i.exec(text);
  const baseUrl = base && attributes(base[1]).href ? new URL(attributes(base[1]).href, pageUrl).toString() : pageUrl;
  const out: IndexFile[] = [];
  for (const m of text.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi)) {
    const attrs = attributes(m[1]);
    if (!attrs.href) continue;
    const url = new URL(attrs.href, baseUrl);
    const label = unescapeHtml(m[2].replace(/<[^>]*>/g, '')).trim();
    const fromHref = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    out.push({ filename: label || fromHref, url: url.toString(), yanked: 'data-yanked' in attrs });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------------------------

/** A wheel file of a page, parsed. */
export interface PageWheel extends WheelName {
  arch: WheelArch | null;
  pythons: string[];
}

export function pageWheels(files: IndexFile[], project: string): PageWheel[] {
  return files.flatMap((f) => {
    const w = f.yanked ? null : parseWheelName(f.filename);
    if (!w || w.project !== normalizeName(project)) return [];
    return [{ ...w, arch: wheelArch(w), pythons: wheelPythons(w) }];
  });
}

/**
 * Whether a wheel version belongs to `release` on `variant`'s index: the bare release, or the
 * release with the variant's local tag (2.2.2+cu121). Other local tags (2.2.2+cpu.cxx11.abi on
 * older cpu indexes) are other builds, not what `torch==X` from this index is meant to give.
 */
export function ofRelease(version: string, release: string, variant: string): boolean {
  const [pub, local] = version.split('+', 2);
  return pub === release && (local === undefined || local === variant);
}

const ARCH_OF_PLATFORM: Record<'amd64' | 'arm64', WheelArch> = { amd64: 'x86_64', arm64: 'aarch64' };

/** What one project has on one variant's page for one platform. */
export interface WheelPick {
  project: string;
  /** The version string the installed package reports, from the file name (2.2.2+cu121, 2.2.2). */
  version: string;
  /** The wheel files of that version for the architecture (and Python, when one was asked). */
  files: string[];
  /** CPython versions those files cover. */
  pythons: string[];
}

/**
 * The wheels of `release` for `arch` (and CPython `python`, '' for any CPython) on one page. When
 * both a tagged and a bare version exist, pip's choice wins: PEP 440 orders 2.2.2+cu121 above 2.2.2.
 */
export function pickWheels(wheels: PageWheel[], project: string, release: string, variant: string, arch: WheelArch, python: string): WheelPick | null {
  const matching = wheels.filter(
    (w) => w.arch === arch && ofRelease(w.version, release, variant) && (python ? supportsPython(w, python) : w.pythons.length > 0),
  );
  if (matching.length === 0) return null;
  const version = matching.some((w) => w.version.includes('+')) ? matching.find((w) => w.version.includes('+'))!.version : matching[0].version;
  const chosen = matching.filter((w) => w.version === version);
  return {
    project,
    version,
    files: chosen.map((w) => w.filename).sort(),
    pythons: [...new Set(chosen.flatMap((w) => w.pythons))].sort(pythonOrder),
  };
}

/** The releases a page has wheels of for `arch` (any Python), oldest first. */
export function releasesOnPage(wheels: PageWheel[], variant: string, arch: WheelArch): string[] {
  const out = new Set<string>();
  for (const w of wheels) {
    const [pub, local] = w.version.split('+', 2);
    if (w.arch === arch && (local === undefined || local === variant)) out.add(pub);
  }
  return [...out].sort(compareReleases);
}

function minorOf(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}

/**
 * The releases nearest `asked` among `available`: the patches of its minor line when there are
 * any, else those of the nearest minor line below and above it.
 */
export function nearestOf(available: string[], asked: string): string[] {
  const all = [...new Set(available)].sort(compareReleases);
  const same = all.filter((v) => minorOf(v) === minorOf(asked));
  if (same.length) return same;
  const below = all.filter((v) => compareReleases(v, asked) < 0).pop();
  const above = all.find((v) => compareReleases(v, asked) > 0);
  return all.filter((v) => [below, above].some((n) => n !== undefined && minorOf(n) === minorOf(v)));
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** The index could not be read (offline, or failing after its retries): the table takes over. */
export class IndexUnavailable extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'IndexUnavailable';
  }
}

/** Where the variant indexes' project pages come from. */
export interface PageSource {
  /** A project page of one variant index; null when the index has no such page (404). Throws IndexUnavailable. */
  page(variantIndexUrl: string, project: string): Promise<IndexPage | null>;
}

export interface IndexRequest {
  /** torch-index-url: the base the variant is appended to. */
  base: string;
  torch: string;
  torchaudio: string;
  /** '' when not checked. */
  torchvision: string;
  /** python-version; '' accepts any CPython and reports which exist. */
  python: string;
  platforms: Array<{ platform: string; arch: 'amd64' | 'arm64'; variant: string }>;
}

export interface PlatformWheels {
  platform: string;
  variant: string;
  /** The variant index (TORCH_INDEX_URL). */
  index: string;
  torch: WheelPick;
  torchaudio: WheelPick;
  torchvision?: WheelPick;
  /** CPython versions every needed project has a wheel for here. */
  pythons: string[];
  expect: Expectation;
}

export interface IndexResolution {
  platforms: PlatformWheels[];
  /** How the pages were read: JSON where the index spoke PEP 691, HTML otherwise. */
  formats: Array<'json' | 'html'>;
  /** The project pages read, in order. */
  pages: string[];
}

const INPUT_OF: Record<string, string> = { torch: 'torch-version', torchaudio: 'torchaudio-version', torchvision: 'torchvision-version' };

/** Every variant the table names, cpu first, then CUDA by number: the candidates a refusal looks through. */
export function knownVariants(): string[] {
  const all = new Set<string>(['cpu']);
  for (const r of Object.values(TORCH_TABLE.releases)) {
    for (const v of [...r.x86_64, ...Object.keys(r.aarch64)]) all.add(v);
  }
  const num = (v: string) => (v === 'cpu' ? 0 : Number(v.replace(/\D/g, '')));
  return [...all].sort((a, b) => num(a) - num(b));
}

function archWords(platform: string, arch: WheelArch): string {
  return `${platform} (${arch})`;
}

/**
 * Reads the pages for every platform and returns the wheels and the expectations they give; throws
 * InputError (naming the input and what exists instead) when a wheel is missing, IndexUnavailable
 * when the index cannot be read.
 */
export async function resolveFromIndex(req: IndexRequest, source: PageSource): Promise<IndexResolution> {
  const formats = new Set<'json' | 'html'>();
  const pages: string[] = [];
  const read = async (variant: string, project: string): Promise<{ page: IndexPage | null; wheels: PageWheel[] }> => {
    const page = await source.page(indexUrl(req.base, variant), project);
    if (page) {
      formats.add(page.format);
      if (!pages.includes(page.url)) pages.push(page.url);
    }
    return { page, wheels: page ? pageWheels(page.files, project) : [] };
  };
  const projects: Array<[string, string]> = [
    ['torch', req.torch],
    ['torchaudio', req.torchaudio],
    ...(req.torchvision ? [['torchvision', req.torchvision] as [string, string]] : []),
  ];

  const out: PlatformWheels[] = [];
  for (const p of req.platforms) {
    const arch = ARCH_OF_PLATFORM[p.arch];
    const picks: Record<string, WheelPick> = {};
    for (const [project, release] of projects) {
      const { page, wheels } = await read(p.variant, project);
      const any = pickWheels(wheels, project, release, p.variant, arch, '');
      if (!any) throw await missingWheel(req, read, { platform: p.platform, arch, variant: p.variant, project, release, page, wheels });
      const pick = req.python ? pickWheels(wheels, project, release, p.variant, arch, req.python) : any;
      if (!pick) {
        throw new InputError(
          'python-version',
          `${p.platform}=${p.variant}: the ${p.variant} index has ${project} ${any.version} for ${archWords(p.platform, arch)} but not for Python ${req.python}; ` +
            `it has Python ${any.pythons.join(', ')} (read from ${page!.url})`,
        );
      }
      picks[project] = pick;
    }
    const pythons = req.python ? [req.python] : commonPythons(Object.values(picks));
    if (pythons.length === 0) {
      throw new InputError(
        'python-version',
        `${p.platform}=${p.variant}: no Python version has wheels of all of ${Object.values(picks)
          .map((k) => `${k.project} ${k.version} (${k.pythons.join(', ')})`)
          .join('; ')} on the ${p.variant} index`,
      );
    }
    out.push({
      platform: p.platform,
      variant: p.variant,
      index: indexUrl(req.base, p.variant),
      torch: picks.torch,
      torchaudio: picks.torchaudio,
      ...(picks.torchvision ? { torchvision: picks.torchvision } : {}),
      pythons,
      expect: { torch: picks.torch.version, torchaudio: picks.torchaudio.version, cuda: cudaOfVariant(p.variant) },
    });
  }
  return { platforms: out, formats: [...formats].sort(), pages };
}

/** CPython versions all picks cover (a pure Python wheel covers every one). */
function commonPythons(picks: WheelPick[]): string[] {
  const concrete = picks.filter((k) => !k.pythons.includes('py3'));
  if (concrete.length === 0) return ['py3'];
  return concrete[0].pythons.filter((py) => concrete.every((k) => k.pythons.includes(py)));
}

interface Missing {
  platform: string;
  arch: WheelArch;
  variant: string;
  project: string;
  release: string;
  page: IndexPage | null;
  wheels: PageWheel[];
}

/**
 * The refusal for a missing wheel: which variants have it for this architecture (from their pages),
 * and the nearest releases this variant has for it. It names torch-variants when another variant
 * (or this variant for another architecture) has the release, else the project's version input.
 */
async function missingWheel(
  req: IndexRequest,
  read: (variant: string, project: string) => Promise<{ page: IndexPage | null; wheels: PageWheel[] }>,
  m: Missing,
): Promise<InputError> {
  const where = m.page ? m.page.url : `${indexUrl(req.base, m.variant)}/${m.project}/ (no such page)`;
  const otherArch = m.wheels.some((w) => w.arch !== m.arch && w.arch !== null && ofRelease(w.version, m.release, m.variant));
  const candidates = knownVariants().filter((v) => v !== m.variant);
  let pagesSeen = m.page ? 1 : 0;
  const found = await Promise.all(
    candidates.map(async (v) => {
      try {
        const { page, wheels } = await read(v, m.project);
        if (page) pagesSeen++;
        return pickWheels(wheels, m.project, m.release, v, m.arch, '') ? v : null;
      } catch (e) {
        if (e instanceof IndexUnavailable) return null;
        throw e;
      }
    }),
  );
  if (pagesSeen === 0) {
    return new InputError(
      'torch-index-url',
      `${req.base} has no ${m.project} page for any variant (asked ${where}); torch-index-url must be the base of a PyTorch-style index, BASE/<variant>/<project>/, such as https://download.pytorch.org/whl`,
    );
  }
  const variants = found.filter((v): v is string => v !== null);
  const nearest = nearestOf(releasesOnPage(m.wheels, m.variant, m.arch), m.release);
  const what = `${m.project} ${m.release}`;
  const head =
    m.project === 'torch'
      ? `the ${m.variant} index has no ${what} wheel for ${archWords(m.platform, m.arch)}`
      : `the ${m.variant} index has torch ${req.torch} for ${archWords(m.platform, m.arch)} but no ${what} wheel for it`;
  const nearText = nearest.length
    ? `; nearest ${m.project} releases with ${m.variant} ${m.arch} wheels: ${nearest.join(', ')}`
    : `; the ${m.variant} index has no ${m.project} wheels for ${m.arch} at all`;
  if (variants.length || otherArch) {
    const has = variants.length
      ? `; ${what} has ${m.arch} wheels on: ${variants.join(', ')}`
      : `; ${what} is on the ${m.variant} index for other architectures only`;
    return new InputError('torch-variants', `${m.platform}=${m.variant}: ${head} (read from ${where})${has}${nearText}`);
  }
  const none =
    m.project === 'torch'
      ? `no variant of the index has a ${what} wheel for ${archWords(m.platform, m.arch)}`
      : `the ${m.variant} index has torch ${req.torch} for ${archWords(m.platform, m.arch)} but no variant of the index has a ${what} wheel for it`;
  return new InputError(INPUT_OF[m.project], `${none} (read from ${where} and the other variants' pages)${nearText}`);
}
