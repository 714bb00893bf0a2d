import { InputError } from '../errors';
import { arm64Refusal, cudaOfVariant, expectedVersions, torchRelease } from './compat';
import type { PlatformInfo } from './platforms';

/** What the probe must read inside the image, compared by exact string. `cuda: null` means CPU build. */
export interface Expectation {
  torch: string;
  torchaudio: string;
  cuda: string | null;
}

export const DEFAULT_INDEX_BASE = 'https://download.pytorch.org/whl';

const VARIANT_RE = /^(cpu|cu(\d{2})(\d))$/;
const VERSION_RE = /^\d+\.\d+(\.\d+)?([a-z]+\d+)?$/;

export function checkVariant(variant: string, input: string): void {
  if (!VARIANT_RE.test(variant)) {
    throw new InputError(input, `unknown torch variant '${variant}'; accepted: cpu or a CUDA variant such as cu118, cu121, cu124`);
  }
}

// One definition, shared with the compatibility table's code.
export { cudaOfVariant } from './compat';

export function checkVersion(version: string, input: string): void {
  if (!VERSION_RE.test(version)) {
    throw new InputError(input, `'${version}' is not an exact release such as 2.2.2 (ranges and local suffixes are not accepted here)`);
  }
}

/**
 * torchaudio's release that pairs with a torch release: the compatibility table's when it knows the release.
 * Otherwise the old rules: from 2.1 on the numbers are the same; 2.0.x paired with torchaudio 2.0.(x+1),
 * and 1.N.x with 0.N.x.
 */
export function defaultTorchaudio(torch: string): string {
  const known = torchRelease(torch);
  if (known) return known.torchaudio;
  const v2 = /^2\.0\.(\d+)$/.exec(torch);
  if (v2) return `2.0.${Number(v2[1]) + 1}`;
  const v1 = /^1\.(\d+)\.(\d+)$/.exec(torch);
  if (v1) return `0.${v1[1]}.${v1[2]}`;
  return torch;
}

export function indexUrl(base: string, variant: string): string {
  return `${base.replace(/\/+$/, '')}/${variant}`;
}

/**
 * The version strings the wheels of `variant`'s index carry on this platform (see expectedVersions: x86_64
 * wheels are tagged +variant; aarch64 ones as the compatibility table records for the release). A CUDA
 * variant on arm64 is refused for a release the table knows publishes no such aarch64 wheel; for a release
 * it does not know, the preflight (checkCompatibility, allow-unknown-torch) has already decided.
 */
export function deriveExpectation(p: PlatformInfo, variant: string, torch: string, torchaudio: string): Expectation {
  const arch = p.arch === 'amd64' ? 'amd64' : 'arm64';
  if (arch === 'arm64' && cudaOfVariant(variant) !== null) {
    const refusal = arm64Refusal(torch, variant, p.platform);
    if (refusal) throw new InputError('torch-variants', refusal);
  }
  return expectedVersions(torch, torchaudio, variant, arch);
}
