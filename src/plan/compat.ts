import { InputError } from '../errors';
import { parsePlatform } from './platforms';
import table from './torch-releases.json';

/**
 * Compatibility preflight: checks the torch inputs against a table of PyTorch releases
 * (torch-releases.json) before anything is built. Pure: no I/O besides the JSON import.
 */

/**
 * The local tags ('' or '+variant') the torch, torchaudio and torchvision wheels of one aarch64 variant
 * carry; null where that index has no aarch64 wheel of the project (2.4.x on cu124 publishes torch only).
 */
export interface Aarch64Wheels {
  torch: string;
  torchaudio: string | null;
  torchvision: string | null;
  /** What about this entry was inferred rather than seen; surfaced as a warning. */
  unconfirmed?: string;
}

export interface TorchRelease {
  torchaudio: string;
  torchvision: string;
  /** CPython versions with Linux wheels ('3.13t': free-threaded). */
  python: string[];
  /** Variants whose index publishes linux x86_64 wheels; those carry a +variant local tag. */
  x86_64: string[];
  /** Variants whose index publishes linux aarch64 torch wheels, with their local tags. */
  aarch64: Record<string, Aarch64Wheels>;
  notes?: string[];
  /** Ids of the table's sources this row rests on. */
  sources: string[];
}

/** How a release the table lacks is expected to be named (see torch-releases.json "unknown"). */
export interface UnknownRule {
  aarch64TorchTaggedFrom: string;
  aarch64DomainTaggedFrom: string;
}

export interface TorchTable {
  /** When the table was last checked against the index; named in every fallback warning. */
  date: string;
  unknown: UnknownRule;
  releases: Record<string, TorchRelease>;
}

export const TORCH_TABLE: TorchTable = table;

export interface CompatRequest {
  torch: string;
  torchaudio: string;
  torchvision?: string;
  /** platform such as 'linux/amd64' -> variant such as 'cu121' */
  variants: Record<string, string>;
  allowUnknown: boolean;
  /** python-version ('3.11'); '' or absent: not checked. */
  python?: string;
}

export interface CompatResult {
  /** false when the torch release is not in the table and allowUnknown let it through unchecked */
  known: boolean;
  warnings: string[];
}

export type WheelArch = 'amd64' | 'arm64';

const CUDA_VARIANT_RE = /^cu(\d{2})(\d)$/;

/** cu121 -> "12.1": the string torch.version.cuda reports for wheels of that index; cpu -> null. */
export function cudaOfVariant(variant: string): string | null {
  const m = CUDA_VARIANT_RE.exec(variant);
  return m ? `${Number(m[1])}.${m[2]}` : null;
}

/** The table's entry for an exact torch version, or undefined when the table does not know it. */
export function torchRelease(torch: string): TorchRelease | undefined {
  return Object.prototype.hasOwnProperty.call(TORCH_TABLE.releases, torch) ? TORCH_TABLE.releases[torch] : undefined;
}

/** [major, minor, patch] of a version's leading numbers; patch 0 when absent. */
function numbers(version: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function compareReleases(a: string, b: string): number {
  const x = numbers(a) ?? [0, 0, 0];
  const y = numbers(b) ?? [0, 0, 0];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

function knownVersions(): string[] {
  return Object.keys(TORCH_TABLE.releases).sort(compareReleases);
}

function minorLine(version: string): string | null {
  const n = numbers(version);
  return n ? `${n[0]}.${n[1]}` : null;
}

/**
 * The known releases nearest an unknown one: the patches of its minor line when the table has that line,
 * else the newest (or oldest) minor line when it lies past either end of the table.
 */
export function nearestReleases(torch: string): string[] {
  const all = knownVersions();
  const line = minorLine(torch);
  const same = all.filter((v) => minorLine(v) === line);
  if (same.length > 0) return same;
  const edge = compareReleases(torch, all[0]) < 0 ? all[0] : all[all.length - 1];
  return all.filter((v) => minorLine(v) === minorLine(edge));
}

function unknownMessage(torch: string): string {
  const all = knownVersions();
  return (
    `torch ${torch} is not in the compatibility table (it covers ${all[0]} to ${all[all.length - 1]}, dated ${TORCH_TABLE.date}); ` +
    `nearest known: ${nearestReleases(torch).join(', ')}. The table may be stale: to build a release it does not know, unchecked, ` +
    `set 'allow-unknown-torch: true'`
  );
}

/** The torch release a torchaudio (or torchvision) version pairs with, if the table knows one. */
function releaseWith(field: 'torchaudio' | 'torchvision', version: string): string | undefined {
  return knownVersions().find((t) => TORCH_TABLE.releases[t][field] === version);
}

function pairingMessage(field: 'torchaudio' | 'torchvision', asked: string, torch: string, rel: TorchRelease): string {
  const other = releaseWith(field, asked);
  const from = other ? ` (${field} ${asked} pairs with torch ${other})` : ` (${field} ${asked} pairs with no torch release in the table)`;
  return `${field} ${asked} is not the release that pairs with torch ${torch}${from}; torch ${torch} pairs with ${field} ${rel[field]}`;
}

function archOf(platform: string): WheelArch {
  return parsePlatform(platform, 'torch-variants').arch === 'amd64' ? 'amd64' : 'arm64';
}

/**
 * Why `variant` cannot be built on linux/arm64 for a release the table knows, or null when it can.
 * Shared by the preflight and deriveExpectation so both refuse with the same words.
 */
export function arm64Refusal(torch: string, variant: string, platform = 'linux/arm64', torchvision = false): string | null {
  const rel = torchRelease(torch);
  if (!rel) return null;
  const wheels = rel.aarch64[variant];
  if (wheels) {
    const missing = [...(wheels.torchaudio === null ? ['torchaudio'] : []), ...(torchvision && wheels.torchvision === null ? ['torchvision'] : [])];
    if (missing.length === 0) return null;
    const complete = Object.keys(rel.aarch64).filter((v) => rel.aarch64[v].torchaudio !== null && (!torchvision || rel.aarch64[v].torchvision !== null));
    return (
      `${platform}=${variant} is not available: the ${variant} index has torch ${torch} for linux/arm64 (aarch64) but no ${missing.join(' or ')} wheel for it; ` +
      `use ${complete.map((v) => `${platform}=${v}`).join(' or ')}${nearestWithAarch64(torch, variant, torchvision)}`
    );
  }
  const cudaVariants = Object.keys(rel.aarch64).filter((v) => cudaOfVariant(v) !== null);
  if (cudaOfVariant(variant) !== null && cudaVariants.length === 0) {
    return `${platform}=${variant} is not available: torch ${torch} publishes no CUDA wheels for linux/arm64 (aarch64); use ${platform}=cpu`;
  }
  return `${platform}=${variant} is not published for torch ${torch} on linux/arm64; published: ${Object.keys(rel.aarch64).join(', ')}`;
}

/** ', or torch 2.5.0, 2.5.1 (whose VARIANT aarch64 wheels are complete)', or '' when no release has them. */
function nearestWithAarch64(torch: string, variant: string, torchvision: boolean): string {
  const ok = knownVersions().filter((v) => {
    const w = TORCH_TABLE.releases[v].aarch64[variant];
    return w && w.torchaudio !== null && (!torchvision || w.torchvision !== null);
  });
  if (ok.length === 0) return '';
  const after = ok.filter((v) => compareReleases(v, torch) > 0);
  const line = minorLine(after[0] ?? ok[ok.length - 1]);
  return `, or torch ${ok.filter((v) => minorLine(v) === line).join(', ')} (the nearest releases whose ${variant} aarch64 wheels include torchaudio${torchvision ? ' and torchvision' : ''})`;
}

/** The asked Python against the release's CPython versions, or null when it has wheels for it. */
function pythonRefusal(torch: string, python: string, rel: TorchRelease): string | null {
  if (!python || rel.python.includes(python)) return null;
  return `torch ${torch} publishes no Linux wheels for Python ${python}; it has ${rel.python.join(', ')} (compatibility table, dated ${TORCH_TABLE.date})`;
}

function amd64Refusal(torch: string, variant: string, rel: TorchRelease, platform: string): string | null {
  if (rel.x86_64.includes(variant)) return null;
  return `${variant} is not published for torch ${torch} on ${platform}; published: ${rel.x86_64.join(', ')}`;
}

/**
 * torchaudio and torchvision against the release the table pairs with torch, when it knows torch:
 * the index lists each project apart, so this stays the table's to say whichever way the plan is made.
 */
export function checkPairing(req: Pick<CompatRequest, 'torch' | 'torchaudio' | 'torchvision'>): void {
  const rel = torchRelease(req.torch);
  if (!rel) return;
  if (req.torchaudio !== rel.torchaudio) {
    throw new InputError('torchaudio-version', pairingMessage('torchaudio', req.torchaudio, req.torch, rel));
  }
  if (req.torchvision !== undefined && req.torchvision !== rel.torchvision) {
    throw new InputError('torchvision-version', pairingMessage('torchvision', req.torchvision, req.torch, rel));
  }
}

/**
 * The preflight, run before any build. Throws InputError naming the input to fix (torch-version,
 * torchaudio-version, torchvision-version, torch-variants) and the nearest valid choices; returns
 * known:false with a warning when the release is unknown and allowUnknown let it through unchecked.
 */
export function checkCompatibility(req: CompatRequest): CompatResult {
  const rel = torchRelease(req.torch);
  if (!rel) {
    if (!req.allowUnknown) throw new InputError('torch-version', unknownMessage(req.torch));
    return {
      known: false,
      warnings: [
        `torch ${req.torch} is not in the compatibility table (dated ${TORCH_TABLE.date}); the table goes stale as PyTorch ` +
          `releases, and allow-unknown-torch is set, so nothing was checked: torchaudio ${req.torchaudio}` +
          `${req.torchvision ? `, torchvision ${req.torchvision}` : ''} and the variants ` +
          `(${Object.entries(req.variants)
            .map(([p, v]) => `${p}=${v}`)
            .join(', ')}) are built as asked`,
      ],
    };
  }

  checkPairing(req);

  const py = pythonRefusal(req.torch, req.python ?? '', rel);
  if (py) throw new InputError('python-version', py);

  const warnings: string[] = [];
  for (const [platform, variant] of Object.entries(req.variants)) {
    const refusal =
      archOf(platform) === 'amd64'
        ? amd64Refusal(req.torch, variant, rel, platform)
        : arm64Refusal(req.torch, variant, platform, req.torchvision !== undefined);
    if (refusal) throw new InputError('torch-variants', refusal);
    const wheels = archOf(platform) === 'arm64' ? rel.aarch64[variant] : undefined;
    if (wheels?.unconfirmed) warnings.push(`torch ${req.torch} ${platform}=${variant}: ${wheels.unconfirmed}`);
  }
  return { known: true, warnings };
}

/**
 * The local tags aarch64 wheels of a release the table does not know are expected to carry (the table's
 * "unknown" rule): torch tagged +variant from 2.6.0 (bare before), torchaudio and torchvision from 2.10.0.
 */
export function unknownAarch64Tags(torch: string, variant: string): { torch: string; torchaudio: string } {
  const rule = TORCH_TABLE.unknown;
  return {
    torch: compareReleases(torch, rule.aarch64TorchTaggedFrom) >= 0 ? `+${variant}` : '',
    torchaudio: compareReleases(torch, rule.aarch64DomainTaggedFrom) >= 0 ? `+${variant}` : '',
  };
}

/**
 * The version strings torch.__version__, torchaudio.__version__ and torch.version.cuda report for wheels
 * of `variant`'s index on `arch`, as the table knows them (the index preflight reads them from the wheel
 * names instead). x86_64 wheels carry +variant. aarch64 wheels carry what the table records for that
 * release and variant; for a release or variant it does not know, what its "unknown" rule says.
 */
export function expectedVersions(
  torch: string,
  torchaudio: string,
  variant: string,
  arch: WheelArch,
): { torch: string; torchaudio: string; cuda: string | null } {
  const cuda = cudaOfVariant(variant);
  if (arch === 'amd64') return { torch: `${torch}+${variant}`, torchaudio: `${torchaudio}+${variant}`, cuda };
  const wheels = torchRelease(torch)?.aarch64[variant];
  const tags = wheels ? { torch: wheels.torch, torchaudio: wheels.torchaudio ?? '' } : unknownAarch64Tags(torch, variant);
  return { torch: torch + tags.torch, torchaudio: torchaudio + tags.torchaudio, cuda };
}
