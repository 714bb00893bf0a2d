import { InputError } from '../../src/errors';
import { checkCompatibility, expectedVersions, nearestReleases, TORCH_TABLE, type CompatRequest } from '../../src/plan/compat';

const AMD = 'linux/amd64';
const ARM = 'linux/arm64';

function req(over: Partial<CompatRequest> & { torch: string }): CompatRequest {
  return { torchaudio: over.torch, variants: { [AMD]: 'cpu', [ARM]: 'cpu' }, allowUnknown: false, ...over };
}

describe('checkCompatibility: combinations PyTorch publishes', () => {
  test.each([
    { name: '2.2.2 with cu121 on amd64 and cpu on arm64 (the defaults)', r: req({ torch: '2.2.2', variants: { [AMD]: 'cu121', [ARM]: 'cpu' } }), warnings: 0 },
    {
      name: '2.2.2 with cu118 and torchvision 0.17.2',
      r: req({ torch: '2.2.2', torchvision: '0.17.2', variants: { [AMD]: 'cu118', [ARM]: 'cpu' } }),
      warnings: 0,
    },
    { name: '2.0.1 pairs with torchaudio 2.0.2 and has cu117', r: req({ torch: '2.0.1', torchaudio: '2.0.2', variants: { [AMD]: 'cu117' } }), warnings: 0 },
    {
      name: '2.0.0 pairs with torchaudio 2.0.1 and torchvision 0.15.1',
      r: req({ torch: '2.0.0', torchaudio: '2.0.1', torchvision: '0.15.1', variants: { [AMD]: 'cu118' } }),
      warnings: 0,
    },
    { name: '2.1.2 with cu121', r: req({ torch: '2.1.2', variants: { [AMD]: 'cu121', [ARM]: 'cpu' } }), warnings: 0 },
    { name: '2.3.1 with cu118', r: req({ torch: '2.3.1', variants: { [AMD]: 'cu118', [ARM]: 'cpu' } }), warnings: 0 },
    { name: '2.5.1 with cu124 on amd64', r: req({ torch: '2.5.1', torchvision: '0.20.1', variants: { [AMD]: 'cu124', [ARM]: 'cpu' } }), warnings: 0 },
    { name: '2.6.0 with cu126 on both platforms', r: req({ torch: '2.6.0', variants: { [AMD]: 'cu126', [ARM]: 'cu126' } }), warnings: 0 },
    {
      name: '2.8.0 with cu129 on both platforms',
      r: req({ torch: '2.8.0', torchvision: '0.23.0', variants: { [AMD]: 'cu129', [ARM]: 'cu129' } }),
      warnings: 0,
    },
    {
      name: '2.7.1 with cu128 on arm64 (warns: torchaudio aarch64 wheel not seen)',
      r: req({ torch: '2.7.1', variants: { [AMD]: 'cu128', [ARM]: 'cu128' } }),
      warnings: 1,
    },
    {
      name: '2.5.1 with cu124 on arm64 (warns: untagged wheel name inferred)',
      r: req({ torch: '2.5.1', variants: { [AMD]: 'cu124', [ARM]: 'cu124' } }),
      warnings: 1,
    },
    {
      name: '2.9.0 with cu129 on both platforms (the index has it; the install page does not say)',
      r: req({ torch: '2.9.0', variants: { [AMD]: 'cu129', [ARM]: 'cu129' } }),
      warnings: 1,
    },
    { name: '2.9.1 with cu129 on amd64', r: req({ torch: '2.9.1', variants: { [AMD]: 'cu129', [ARM]: 'cpu' } }), warnings: 0 },
    {
      name: '2.10.0 with cu130 on both, torchvision 0.25.0 (warns: domain tags from issue 7)',
      r: req({ torch: '2.10.0', torchvision: '0.25.0', variants: { [AMD]: 'cu130', [ARM]: 'cu130' } }),
      warnings: 1,
    },
    { name: '2.2.2 for Python 3.12', r: req({ torch: '2.2.2', python: '3.12' }), warnings: 0 },
    {
      name: '2.9.1 with cu130 on both and torchvision 0.24.1',
      r: req({ torch: '2.9.1', torchvision: '0.24.1', variants: { [AMD]: 'cu130', [ARM]: 'cpu' } }),
      warnings: 0,
    },
    { name: 'platform aliases are understood (linux/arm64/v8)', r: req({ torch: '2.2.2', variants: { 'linux/arm64/v8': 'cpu' } }), warnings: 0 },
  ])('$name', ({ r, warnings }) => {
    const got = checkCompatibility(r);
    expect(got.known).toBe(true);
    expect(got.warnings).toHaveLength(warnings);
  });

  test('an unconfirmed aarch64 entry names the platform and variant in its warning', () => {
    const got = checkCompatibility(req({ torch: '2.5.0', variants: { [ARM]: 'cu124' } }));
    expect(got.warnings[0]).toContain('torch 2.5.0 linux/arm64=cu124');
    expect(got.warnings[0]).toContain('not seen');
  });
});

describe('checkCompatibility: refusals name the input and the valid choices', () => {
  test.each([
    {
      name: 'cu124 on amd64 for 2.2.2',
      r: req({ torch: '2.2.2', variants: { [AMD]: 'cu124', [ARM]: 'cpu' } }),
      input: 'torch-variants',
      says: ['cu124 is not published for torch 2.2.2 on linux/amd64', 'published: cpu, cu118, cu121'],
    },
    {
      name: 'cu117 on amd64 for 2.1.0 (dropped after 2.0)',
      r: req({ torch: '2.1.0', variants: { [AMD]: 'cu117' } }),
      input: 'torch-variants',
      says: ['cu117 is not published for torch 2.1.0 on linux/amd64', 'published: cpu, cu118, cu121'],
    },
    {
      name: 'cu118 on amd64 for 2.8.0 (dropped after 2.7)',
      r: req({ torch: '2.8.0', variants: { [AMD]: 'cu118' } }),
      input: 'torch-variants',
      says: ['published: cpu, cu126, cu128, cu129'],
    },
    {
      name: 'cu121 on arm64 for 2.2.2 (no aarch64 CUDA wheels at all)',
      r: req({ torch: '2.2.2', variants: { [AMD]: 'cu121', [ARM]: 'cu121' } }),
      input: 'torch-variants',
      says: ['linux/arm64=cu121 is not available', 'publishes no CUDA wheels for linux/arm64', 'use linux/arm64=cpu'],
    },
    {
      name: 'cu118 on arm64 for 2.3.1 (before aarch64 CUDA wheels began in 2.4.0)',
      r: req({ torch: '2.3.1', variants: { [ARM]: 'cu118' } }),
      input: 'torch-variants',
      says: ['publishes no CUDA wheels for linux/arm64', 'use linux/arm64=cpu'],
    },
    {
      name: 'cu126 on arm64 for 2.7.0 (only cu128 had aarch64 wheels)',
      r: req({ torch: '2.7.0', variants: { [AMD]: 'cu126', [ARM]: 'cu126' } }),
      input: 'torch-variants',
      says: ['linux/arm64=cu126 is not published for torch 2.7.0 on linux/arm64', 'published: cpu, cu128'],
    },
    {
      name: 'cu124 on arm64 for 2.6.0 (only cu126 had aarch64 wheels)',
      r: req({ torch: '2.6.0', variants: { [ARM]: 'cu124' } }),
      input: 'torch-variants',
      says: ['published: cpu, cu126'],
    },
    {
      name: 'cu126 on arm64 for 2.8.0',
      r: req({ torch: '2.8.0', variants: { [ARM]: 'cu126' } }),
      input: 'torch-variants',
      says: ['published: cpu, cu129'],
    },
    {
      name: 'cu128 on arm64 for 2.8.0 (its aarch64 CUDA wheels are cu129 only)',
      r: req({ torch: '2.8.0', variants: { [AMD]: 'cu128', [ARM]: 'cu128' } }),
      input: 'torch-variants',
      says: ['linux/arm64=cu128 is not published for torch 2.8.0 on linux/arm64', 'published: cpu, cu129'],
    },
    {
      name: 'cu129 on arm64 for 2.9.1 (2.9.1 has cu129 for x86_64 only)',
      r: req({ torch: '2.9.1', variants: { [AMD]: 'cu129', [ARM]: 'cu129' } }),
      input: 'torch-variants',
      says: ['linux/arm64=cu129 is not published for torch 2.9.1 on linux/arm64', 'published: cpu, cu126, cu128, cu130'],
    },
    {
      name: 'cu124 on arm64 for 2.4.1 (torch only: no torchaudio aarch64 CUDA wheel before 2.5)',
      r: req({ torch: '2.4.1', variants: { [AMD]: 'cu124', [ARM]: 'cu124' } }),
      input: 'torch-variants',
      says: ['linux/arm64=cu124 is not available', 'no torchaudio wheel', 'use linux/arm64=cpu', 'torch 2.5.0, 2.5.1'],
    },
    {
      name: 'cu124 on arm64 for 2.4.0 with torchvision',
      r: req({ torch: '2.4.0', torchvision: '0.19.0', variants: { [ARM]: 'cu124' } }),
      input: 'torch-variants',
      says: ['no torchaudio or torchvision wheel', 'include torchaudio and torchvision'],
    },
    {
      name: 'a Python 2.9.0 has no wheels for',
      r: req({ torch: '2.9.0', python: '3.9' }),
      input: 'python-version',
      says: ['torch 2.9.0 publishes no Linux wheels for Python 3.9', 'it has 3.10, 3.11, 3.12, 3.13, 3.13t, 3.14, 3.14t'],
    },
    {
      name: 'torchaudio from the previous patch release',
      r: req({ torch: '2.2.2', torchaudio: '2.2.1' }),
      input: 'torchaudio-version',
      says: [
        'torchaudio 2.2.1 is not the release that pairs with torch 2.2.2',
        'torchaudio 2.2.1 pairs with torch 2.2.1',
        'torch 2.2.2 pairs with torchaudio 2.2.2',
      ],
    },
    {
      name: 'torchaudio numbered like torch for 2.0.1 (it pairs with 2.0.2)',
      r: req({ torch: '2.0.1', torchaudio: '2.0.1' }),
      input: 'torchaudio-version',
      says: ['torchaudio 2.0.1 pairs with torch 2.0.0', 'torch 2.0.1 pairs with torchaudio 2.0.2'],
    },
    {
      name: 'torchaudio from no known release',
      r: req({ torch: '2.9.0', torchaudio: '2.9.9' }),
      input: 'torchaudio-version',
      says: ['pairs with no torch release in the table', 'torch 2.9.0 pairs with torchaudio 2.9.0'],
    },
    {
      name: 'torchvision from another release',
      r: req({ torch: '2.2.2', torchvision: '0.17.1' }),
      input: 'torchvision-version',
      says: ['torchvision 0.17.1 pairs with torch 2.2.1', 'torch 2.2.2 pairs with torchvision 0.17.2'],
    },
    {
      name: 'torchvision numbered like torch',
      r: req({ torch: '2.7.0', torchvision: '2.7.0' }),
      input: 'torchvision-version',
      says: ['torch 2.7.0 pairs with torchvision 0.22.0'],
    },
  ])('$name', ({ r, input, says }) => {
    const check = () => checkCompatibility(r);
    expect(check).toThrow(InputError);
    expect(check).toThrow(`Input '${input}'`);
    for (const s of says) expect(check).toThrow(s);
  });
});

describe('checkCompatibility: releases the table does not know', () => {
  test.each([
    { name: 'a newer minor line (2.12.0)', torch: '2.12.0', nearest: '2.11.0' },
    { name: 'a new major (3.0.0)', torch: '3.0.0', nearest: '2.11.0' },
    { name: 'an unknown patch (2.2.3) lists its minor line', torch: '2.2.3', nearest: '2.2.0, 2.2.1, 2.2.2' },
    { name: 'a release candidate (2.3.0rc1) lists its minor line', torch: '2.3.0rc1', nearest: '2.3.0, 2.3.1' },
    { name: 'an older release (1.13.1)', torch: '1.13.1', nearest: '2.0.0, 2.0.1' },
  ])('$name is refused, pointing at allow-unknown-torch', ({ torch, nearest }) => {
    const check = () => checkCompatibility(req({ torch }));
    expect(check).toThrow(InputError);
    expect(check).toThrow("Input 'torch-version'");
    expect(check).toThrow(`torch ${torch} is not in the compatibility table`);
    expect(check).toThrow(`nearest known: ${nearest}`);
    expect(check).toThrow('dated 2026-11-24');
    expect(check).toThrow('may be stale');
    expect(check).toThrow('allow-unknown-torch: true');
  });

  test.each([
    { name: '2.12.0 with a CUDA variant on arm64', r: req({ torch: '2.12.0', allowUnknown: true, variants: { [AMD]: 'cu130', [ARM]: 'cu130' } }) },
    { name: '1.13.1 with a mismatched-looking torchaudio', r: req({ torch: '1.13.1', torchaudio: '0.13.1', allowUnknown: true }) },
  ])('$name is let through unchecked with allow-unknown-torch, and says so', ({ r }) => {
    const got = checkCompatibility(r);
    expect(got.known).toBe(false);
    expect(got.warnings).toHaveLength(1);
    expect(got.warnings[0]).toContain(`torch ${r.torch} is not in the compatibility table (dated 2026-11-24)`);
    expect(got.warnings[0]).toContain('goes stale');
    expect(got.warnings[0]).toContain('nothing was checked');
  });

  test('allow-unknown-torch does not loosen checks for a known release', () => {
    const check = () => checkCompatibility(req({ torch: '2.2.2', allowUnknown: true, variants: { [ARM]: 'cu121' } }));
    expect(check).toThrow("Input 'torch-variants'");
  });

  test.each([
    { name: 'within a known line', torch: '2.5.7', want: ['2.5.0', '2.5.1'] },
    { name: 'past the newest line', torch: '2.13.0', want: ['2.11.0'] },
    { name: 'before the oldest line', torch: '1.12.0', want: ['2.0.0', '2.0.1'] },
  ])('nearestReleases $name', ({ torch, want }) => {
    expect(nearestReleases(torch)).toEqual(want);
  });
});

describe('expectedVersions follows the wheel names', () => {
  test.each([
    {
      name: 'amd64 cu121 for 2.2.2: +cu121 on both, CUDA 12.1',
      torch: '2.2.2',
      torchaudio: '2.2.2',
      variant: 'cu121',
      arch: 'amd64' as const,
      want: { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' },
    },
    {
      name: 'amd64 cpu for 2.2.2: +cpu on both',
      torch: '2.2.2',
      torchaudio: '2.2.2',
      variant: 'cpu',
      arch: 'amd64' as const,
      want: { torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null },
    },
    {
      name: 'amd64 cu118 for 2.0.1 keeps torchaudio 2.0.2 apart',
      torch: '2.0.1',
      torchaudio: '2.0.2',
      variant: 'cu118',
      arch: 'amd64' as const,
      want: { torch: '2.0.1+cu118', torchaudio: '2.0.2+cu118', cuda: '11.8' },
    },
    {
      name: 'arm64 cpu for 2.2.2: no local tag',
      torch: '2.2.2',
      torchaudio: '2.2.2',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.2.2', torchaudio: '2.2.2', cuda: null },
    },
    {
      name: 'arm64 cpu for 2.5.1: still no local tag',
      torch: '2.5.1',
      torchaudio: '2.5.1',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.5.1', torchaudio: '2.5.1', cuda: null },
    },
    {
      name: 'arm64 cpu for 2.6.0: torch +cpu, torchaudio untagged',
      torch: '2.6.0',
      torchaudio: '2.6.0',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.6.0+cpu', torchaudio: '2.6.0', cuda: null },
    },
    {
      name: 'arm64 cpu for 2.9.1: torch +cpu, torchaudio untagged',
      torch: '2.9.1',
      torchaudio: '2.9.1',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.9.1+cpu', torchaudio: '2.9.1', cuda: null },
    },
    {
      name: 'arm64 cu126 for 2.6.0: torch +cu126, torchaudio untagged',
      torch: '2.6.0',
      torchaudio: '2.6.0',
      variant: 'cu126',
      arch: 'arm64' as const,
      want: { torch: '2.6.0+cu126', torchaudio: '2.6.0', cuda: '12.6' },
    },
    {
      name: 'arm64 cu128 for 2.7.0',
      torch: '2.7.0',
      torchaudio: '2.7.0',
      variant: 'cu128',
      arch: 'arm64' as const,
      want: { torch: '2.7.0+cu128', torchaudio: '2.7.0', cuda: '12.8' },
    },
    {
      name: 'arm64 cu130 for 2.9.0',
      torch: '2.9.0',
      torchaudio: '2.9.0',
      variant: 'cu130',
      arch: 'arm64' as const,
      want: { torch: '2.9.0+cu130', torchaudio: '2.9.0', cuda: '13.0' },
    },
    {
      name: 'arm64 cu124 for 2.4.0: untagged wheel name',
      torch: '2.4.0',
      torchaudio: '2.4.0',
      variant: 'cu124',
      arch: 'arm64' as const,
      want: { torch: '2.4.0', torchaudio: '2.4.0', cuda: '12.4' },
    },
    {
      name: 'arm64 cpu for 2.10.0: torch and torchaudio +cpu',
      torch: '2.10.0',
      torchaudio: '2.10.0',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.10.0+cpu', torchaudio: '2.10.0+cpu', cuda: null },
    },
    {
      name: 'arm64 cu129 for 2.9.0: torch +cu129, torchaudio untagged',
      torch: '2.9.0',
      torchaudio: '2.9.0',
      variant: 'cu129',
      arch: 'arm64' as const,
      want: { torch: '2.9.0+cu129', torchaudio: '2.9.0', cuda: '12.9' },
    },
    {
      name: 'unknown release, amd64: +variant',
      torch: '2.12.0',
      torchaudio: '2.12.0',
      variant: 'cu130',
      arch: 'amd64' as const,
      want: { torch: '2.12.0+cu130', torchaudio: '2.12.0+cu130', cuda: '13.0' },
    },
    {
      name: 'unknown release from 2.10 on, arm64 cpu: both +cpu',
      torch: '2.12.0',
      torchaudio: '2.12.0',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.12.0+cpu', torchaudio: '2.12.0+cpu', cuda: null },
    },
    {
      name: 'unknown release from 2.10 on, arm64 CUDA: both +variant',
      torch: '2.12.0',
      torchaudio: '2.12.0',
      variant: 'cu130',
      arch: 'arm64' as const,
      want: { torch: '2.12.0+cu130', torchaudio: '2.12.0+cu130', cuda: '13.0' },
    },
    {
      name: 'unknown patch between 2.6 and 2.10, arm64 cpu: torch +cpu, torchaudio bare',
      torch: '2.7.9',
      torchaudio: '2.7.9',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.7.9+cpu', torchaudio: '2.7.9', cuda: null },
    },
    {
      name: 'unknown patch before 2.6, arm64 cpu: both bare',
      torch: '2.3.9',
      torchaudio: '2.3.9',
      variant: 'cpu',
      arch: 'arm64' as const,
      want: { torch: '2.3.9', torchaudio: '2.3.9', cuda: null },
    },
  ])('$name', ({ torch, torchaudio, variant, arch, want }) => {
    expect(expectedVersions(torch, torchaudio, variant, arch)).toEqual(want);
  });
});

describe('torch-releases.json is well-formed', () => {
  const releases = Object.entries(TORCH_TABLE.releases);
  const table = TORCH_TABLE as unknown as { date: string; sources: Array<{ id: string; title: string; url?: string; ref?: string }>; notes: string[] };

  test('it records its date, and its sources, each with an id and a URL (or a reference)', () => {
    expect(table.date).toBe('2026-11-24');
    expect(table.sources.length).toBeGreaterThan(0);
    expect(new Set(table.sources.map((s) => s.id)).size).toBe(table.sources.length);
    for (const s of table.sources) {
      expect(s.title).not.toBe('');
      if (s.url !== undefined) expect(s.url).toMatch(/^https:\/\//);
      else expect(s.ref).toBeTruthy();
    }
    expect(table.notes.length).toBeGreaterThan(0);
  });

  test('it covers 2.0.0 through 2.11.0', () => {
    const keys = releases.map(([k]) => k);
    for (const v of [
      '2.0.0',
      '2.0.1',
      '2.1.0',
      '2.1.1',
      '2.1.2',
      '2.2.0',
      '2.2.1',
      '2.2.2',
      '2.3.0',
      '2.3.1',
      '2.4.0',
      '2.4.1',
      '2.5.0',
      '2.5.1',
      '2.6.0',
      '2.7.0',
      '2.7.1',
      '2.8.0',
      '2.9.0',
      '2.9.1',
      '2.10.0',
      '2.11.0',
    ]) {
      expect(keys).toContain(v);
    }
  });

  test('the rule for unknown releases names real releases', () => {
    expect(TORCH_TABLE.unknown).toEqual({ description: expect.any(String), aarch64TorchTaggedFrom: '2.6.0', aarch64DomainTaggedFrom: '2.10.0' });
  });

  test.each(releases.map(([torch, rel]) => ({ name: `torch ${torch}`, torch, rel })))('$name', ({ torch, rel }) => {
    expect(torch).toMatch(/^2\.\d+\.\d+$/);
    expect(rel.torchaudio).toMatch(/^\d+\.\d+\.\d+$/);
    expect(rel.torchvision).toMatch(/^0\.\d+\.\d+$/);
    // From 2.1 on torchaudio carries torch's number; torchvision's minor is torch's minor + 15.
    if (!torch.startsWith('2.0.')) expect(rel.torchaudio).toBe(torch);
    expect(Number(rel.torchvision.split('.')[1])).toBe(Number(torch.split('.')[1]) + 15);
    for (const py of rel.python) expect(py).toMatch(/^3\.\d+t?$/);
    expect(rel.sources.length).toBeGreaterThan(0);
    for (const id of rel.sources) expect(table.sources.map((s) => s.id)).toContain(id);

    expect(rel.x86_64).toContain('cpu');
    for (const v of rel.x86_64) expect(v).toMatch(/^(cpu|cu\d{3})$/);
    expect(new Set(rel.x86_64).size).toBe(rel.x86_64.length);

    const arm = Object.keys(rel.aarch64);
    expect(arm).toContain('cpu');
    for (const v of arm) {
      // aarch64 variants are a subset of what the release publishes for x86_64
      expect(rel.x86_64).toContain(v);
      const w = rel.aarch64[v];
      expect(['', `+${v}`]).toContain(w.torch);
      expect(['', `+${v}`, null]).toContain(w.torchaudio);
      expect(['', `+${v}`, null]).toContain(w.torchvision);
      if (w.unconfirmed !== undefined) expect(w.unconfirmed.length).toBeGreaterThan(10);
    }
  });
});
