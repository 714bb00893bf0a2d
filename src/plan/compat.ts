import { InputError } from '../errors';
import { parsePlatform } from './platforms';
import table from './torch-releases.json';

/**
 * Compatibility preflight: checks the torch inputs against a table of PyTorch releases
 * (torch-releases.json) before anything is built. Pure: no I/O besides the JSON import.
 */

/** The local tags ('' or '+variant') the torch and torchaudio wheels of one aarch64 variant carry. */
export interface Aarch64Wheels {
  torch: string;
  torchaudio: string;
  /** What about this entry was inferred rather than seen; surfaced as a warning. */
  unconfirmed?: string;
}

export interface TorchRelease {
  torchaudio: string;
  torchvision: string;
  /** Variants whose index publishes linux x86_64 wheels; those carry a +variant local tag. */
  x86_64: string[];
  /** Variants whose index publishes linux aarch64 torch wheels, with their local tags. */
  aarch64: Record<string, Aarch64Wheels>;
  notes?: string[];
}

export interface TorchTable {
  checked: string;
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

function compare(a: string, b: string): number {
  const x = numbers(a) ?? [0, 0, 0];
  const y = numbers(b) ?? [0, 0, 0];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

function knownVersions(): string[] {
  return Object.keys(TORCH_TABLE.releases).sort(compare);
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
  const edge = compare(torch, all[0]) < 0 ? all[0] : all[all.length - 1];
  return all.filter((v) => minorLine(v) === minorLine(edge));
}

function unknownMessage(torch: string): string {
  const all = knownVersions();
  return (
    `torch ${torch} is not in the compatibility table (it covers ${all[0]} to ${all[all.length - 1]}, checked ${TORCH_TABLE.checked}); ` +
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
export function arm64Refusal(torch: string, variant: string, platform = 'linux/arm64'): string | null {
  const rel = torchRelease(torch);
  if (!rel || rel.aarch64[variant]) return null;
  const cudaVariants = Object.keys(rel.aarch64).filter((v) => cudaOfVariant(v) !== null);
  if (cudaOfVariant(variant) !== null && cudaVariants.length === 0) {
    return `${platform}=${variant} is not available: torch ${torch} publishes no CUDA wheels for linux/arm64 (aarch64); use ${platform}=cpu`;
  }
  return `${platform}=${variant} is not published for torch ${torch} on linux/arm64; published: ${Object.keys(rel.aarch64).join(', ')}`;
}

function amd64Refusal(torch: string, variant: string, rel: TorchRelease, platform: string): string | null {
  if (rel.x86_64.includes(variant)) return null;
  return `${variant} is not published for torch ${torch} on ${platform}; published: ${rel.x86_64.join(', ')}`;
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
        `torch ${req.torch} is not in the compatibility table (checked ${TORCH_TABLE.checked}); the table goes stale as PyTorch ` +
          `releases, and allow-unknown-torch is set, so nothing was checked: torchaudio ${req.torchaudio}` +
          `${req.torchvision ? `, torchvision ${req.torchvision}` : ''} and the variants ` +
          `(${Object.entries(req.variants).map(([p, v]) => `${p}=${v}`).join(', ')}) are built as asked`,
      ],
    };
  }

  if (req.torchaudio !== rel.torchaudio) {
    throw new InputError('torchaudio-version', pairingMessage('torchaudio', req.torchaudio, req.torch, rel));
  }
  if (req.torchvision !== undefined && req.torchvision !== rel.torchvision) {
    throw new InputError('torchvision-version', pairingMessage('torchvision', req.torchvision, req.torch, rel));
  }

  const warnings: string[] = [];
  for (const [platform, variant] of Object.entries(req.variants)) {
    const refusal = archOf(platform) === 'amd64' ? amd64Refusal(req.torch, variant, rel, platform) : arm64Refusal(req.torch, variant, platform);
    if (refusal) throw new InputError('torch-variants', refusal);
    const wheels = archOf(platform) === 'arm64' ? rel.aarch64[variant] : undefined;
    if (wheels?.unconfirmed) warnings.push(`torch ${req.torch} ${platform}=${variant}: ${wheels.unconfirmed}`);
  }
  return { known: true, warnings };
}

/**
 * The version strings torch.__version__, torchaudio.__version__ and torch.version.cuda report for wheels
 * of `variant`'s index on `arch`. x86_64 wheels carry +variant. aarch64 wheels carry what the table
 * records for that release and variant; for a release or variant it does not know: cpu untagged, CUDA +variant.
 */
export function expectedVersions(torch: string, torchaudio: string, variant: string, arch: WheelArch): { torch: string; torchaudio: string; cuda: string | null } {
  const cuda = cudaOfVariant(variant);
  if (arch === 'amd64') return { torch: `${torch}+${variant}`, torchaudio: `${torchaudio}+${variant}`, cuda };
  const wheels = torchRelease(torch)?.aarch64[variant];
  if (wheels) return { torch: torch + wheels.torch, torchaudio: torchaudio + wheels.torchaudio, cuda };
  const suffix = cuda === null ? '' : `+${variant}`;
  return { torch: torch + suffix, torchaudio: torchaudio + suffix, cuda };
}
