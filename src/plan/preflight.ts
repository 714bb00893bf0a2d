import { InputError } from '../errors';
import type { Inputs } from '../inputs';
import { checkCompatibility, checkPairing, torchRelease, TORCH_TABLE, type CompatResult } from './compat';
import { deriveExpectation, type Expectation } from './torch';
import { IndexUnavailable, resolveFromIndex, type PageSource, type PlatformWheels } from './wheel-index';

/**
 * The torch preflight of one image: the variant indexes themselves when they answer (the truth,
 * also for releases the table has not heard of), else the bundled table with a warning naming its
 * date. Either way it refuses before any build, naming the input to change.
 */

/** Where the plan's torch facts came from. */
export type WheelSource = { kind: 'index'; base: string; formats: Array<'json' | 'html'>; pages: string[] } | { kind: 'table'; date: string; reason?: string };

export interface TorchResolution {
  source: WheelSource;
  /** Per platform: what the probe must read (before the expect input's overrides). */
  expect: Record<string, Expectation>;
  /** Per platform, from the index; empty when the table decided. */
  wheels: PlatformWheels[];
  warnings: string[];
  /** Lines for the log: what was found where. */
  notes: string[];
}

export type TorchInputs = Pick<
  Inputs,
  'torchVersion' | 'torchaudioVersion' | 'torchvisionVersion' | 'pythonVersion' | 'allowUnknownTorch' | 'torchIndexUrl' | 'platforms' | 'torchVariants'
>;

/** One line for the log and the dry-run: where the wheels' names were read. */
export function describeSource(s: WheelSource): string {
  if (s.kind === 'index') {
    const formats = s.formats.map((f) => (f === 'json' ? 'PEP 691 JSON' : 'PEP 503 HTML')).join(' and ');
    return `index ${s.base} (${formats || 'no page read'})`;
  }
  return `bundled table, dated ${s.date}${s.reason ? ` (the index could not be read: ${s.reason})` : ''}`;
}

/** The table's answer: its refusals, its expectations, and a warning naming its date when the index failed. */
export function tableResolution(inputs: TorchInputs, reason?: string): TorchResolution {
  const variants = Object.fromEntries(inputs.platforms.map((p) => [p.platform, inputs.torchVariants[p.platform]]));
  let compat: CompatResult;
  let expect: Record<string, Expectation>;
  try {
    compat = checkCompatibility({
      torch: inputs.torchVersion,
      torchaudio: inputs.torchaudioVersion,
      torchvision: inputs.torchvisionVersion || undefined,
      variants,
      allowUnknown: inputs.allowUnknownTorch,
      python: inputs.pythonVersion,
    });
    expect = Object.fromEntries(
      inputs.platforms.map((p) => [p.platform, deriveExpectation(p, variants[p.platform], inputs.torchVersion, inputs.torchaudioVersion)]),
    );
  } catch (e) {
    // The user should know the table spoke because the index could not.
    if (reason && e instanceof InputError) {
      throw new InputError(
        e.input,
        `${e.message.replace(/^Input '[^']+': /, '')} (decided by the bundled table, dated ${TORCH_TABLE.date}: the index ${inputs.torchIndexUrl} could not be read: ${reason})`,
      );
    }
    throw e;
  }
  const fallback = reason
    ? [
        `torch wheels: the index ${inputs.torchIndexUrl} could not be read (${reason}); the plan follows the bundled compatibility table, dated ${TORCH_TABLE.date}, ` +
          'which goes stale as PyTorch releases: the expectations are its guess, not read from the wheels',
      ]
    : [];
  return {
    source: { kind: 'table', date: TORCH_TABLE.date, ...(reason ? { reason } : {}) },
    expect,
    wheels: [],
    warnings: [...fallback, ...compat.warnings],
    notes: [],
  };
}

/** Index first; the table when the index cannot be read. Throws InputError for what cannot be built. */
export async function resolveTorch(inputs: TorchInputs, source: PageSource): Promise<TorchResolution> {
  checkPairing({ torch: inputs.torchVersion, torchaudio: inputs.torchaudioVersion, torchvision: inputs.torchvisionVersion || undefined });
  let found;
  try {
    found = await resolveFromIndex(
      {
        base: inputs.torchIndexUrl,
        torch: inputs.torchVersion,
        torchaudio: inputs.torchaudioVersion,
        torchvision: inputs.torchvisionVersion,
        python: inputs.pythonVersion,
        platforms: inputs.platforms.map((p) => ({
          platform: p.platform,
          arch: p.arch === 'amd64' ? 'amd64' : 'arm64',
          variant: inputs.torchVariants[p.platform],
        })),
      },
      source,
    );
  } catch (e) {
    if (e instanceof IndexUnavailable) return tableResolution(inputs, e.message);
    throw e;
  }
  const notes = found.platforms.map((w) => {
    const list = [w.torch, w.torchaudio, ...(w.torchvision ? [w.torchvision] : [])].map((k) => `${k.project} ${k.version}`).join(', ');
    const py = inputs.pythonVersion ? `Python ${inputs.pythonVersion}` : `Python ${w.pythons.join(', ')} (set python-version to check the image's)`;
    return `${w.platform}=${w.variant}: ${list} for ${py}, from ${w.index}`;
  });
  if (!torchRelease(inputs.torchVersion)) {
    notes.push(`torch ${inputs.torchVersion} is not in the bundled table (dated ${TORCH_TABLE.date}); its wheels are on the index, so the plan follows them`);
  }
  return {
    source: { kind: 'index', base: inputs.torchIndexUrl, formats: found.formats, pages: found.pages },
    expect: Object.fromEntries(found.platforms.map((w) => [w.platform, w.expect])),
    wheels: found.platforms,
    warnings: [],
    notes,
  };
}
