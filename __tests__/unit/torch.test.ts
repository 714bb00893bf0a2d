import { InputError } from '../../src/errors';
import { checkVariant, checkVersion, cudaOfVariant, defaultTorchaudio, deriveExpectation, indexUrl } from '../../src/plan/torch';
import { AMD64, ARM64 } from './fixtures';

describe('deriveExpectation', () => {
  test.each([
    {
      name: 'amd64 cu121 carries the +cu121 local tag and CUDA 12.1',
      platform: AMD64,
      variant: 'cu121',
      want: { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' },
    },
    {
      name: 'amd64 cu118 carries +cu118 and CUDA 11.8',
      platform: AMD64,
      variant: 'cu118',
      want: { torch: '2.2.2+cu118', torchaudio: '2.2.2+cu118', cuda: '11.8' },
    },
    {
      name: 'amd64 cpu carries the +cpu local tag and no CUDA',
      platform: AMD64,
      variant: 'cpu',
      want: { torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null },
    },
    { name: 'arm64 cpu has no local tag and no CUDA', platform: ARM64, variant: 'cpu', want: { torch: '2.2.2', torchaudio: '2.2.2', cuda: null } },
  ])('$name', ({ platform, variant, want }) => {
    expect(deriveExpectation(platform, variant, '2.2.2', '2.2.2')).toEqual(want);
  });

  test('torch and torchaudio versions are kept apart', () => {
    expect(deriveExpectation(AMD64, 'cu118', '2.0.1', '2.0.2')).toEqual({ torch: '2.0.1+cu118', torchaudio: '2.0.2+cu118', cuda: '11.8' });
  });

  test.each([
    {
      name: 'arm64 cpu for 2.6.0: torch carries +cpu, torchaudio does not',
      platform: ARM64,
      variant: 'cpu',
      torch: '2.6.0',
      want: { torch: '2.6.0+cpu', torchaudio: '2.6.0', cuda: null },
    },
    {
      name: 'arm64 cu126 for 2.6.0 (published for aarch64)',
      platform: ARM64,
      variant: 'cu126',
      torch: '2.6.0',
      want: { torch: '2.6.0+cu126', torchaudio: '2.6.0', cuda: '12.6' },
    },
    {
      name: 'arm64 cu128 for 2.7.1 (published for aarch64)',
      platform: ARM64,
      variant: 'cu128',
      torch: '2.7.1',
      want: { torch: '2.7.1+cu128', torchaudio: '2.7.1', cuda: '12.8' },
    },
    {
      name: 'arm64 cu124 for 2.5.1: the aarch64 CUDA wheel is untagged',
      platform: ARM64,
      variant: 'cu124',
      torch: '2.5.1',
      want: { torch: '2.5.1', torchaudio: '2.5.1', cuda: '12.4' },
    },
    {
      name: 'arm64 cu130 for an unknown release is left to the preflight: +cu130',
      platform: ARM64,
      variant: 'cu130',
      torch: '2.10.0',
      want: { torch: '2.10.0+cu130', torchaudio: '2.10.0+cu130', cuda: '13.0' },
    },
    {
      name: 'amd64 cu130 for 2.9.1',
      platform: AMD64,
      variant: 'cu130',
      torch: '2.9.1',
      want: { torch: '2.9.1+cu130', torchaudio: '2.9.1+cu130', cuda: '13.0' },
    },
  ])('$name', ({ platform, variant, torch, want }) => {
    expect(deriveExpectation(platform, variant, torch, torch)).toEqual(want);
  });

  test.each([
    { name: 'arm64 cu121 for 2.2.2', variant: 'cu121', torch: '2.2.2', says: 'publishes no CUDA wheels for linux/arm64' },
    { name: 'arm64 cu118 for 2.2.2', variant: 'cu118', torch: '2.2.2', says: 'use linux/arm64=cpu' },
    { name: 'arm64 cu126 for 2.7.1 (aarch64 had cu128 only)', variant: 'cu126', torch: '2.7.1', says: 'published: cpu, cu128' },
  ])('$name is refused naming torch-variants', ({ variant, torch, says }) => {
    const derive = () => deriveExpectation(ARM64, variant, torch, torch);
    expect(derive).toThrow(InputError);
    expect(derive).toThrow("Input 'torch-variants'");
    expect(derive).toThrow(`linux/arm64=${variant}`);
    expect(derive).toThrow(says);
  });
});

describe('cudaOfVariant', () => {
  test.each([
    { name: 'cu118 is 11.8', variant: 'cu118', want: '11.8' },
    { name: 'cu121 is 12.1', variant: 'cu121', want: '12.1' },
    { name: 'cu124 is 12.4', variant: 'cu124', want: '12.4' },
    { name: 'cu102 is 10.2', variant: 'cu102', want: '10.2' },
    { name: 'cpu has none', variant: 'cpu', want: null },
    { name: 'an unknown variant has none', variant: 'rocm5.7', want: null },
  ])('$name', ({ variant, want }) => {
    expect(cudaOfVariant(variant)).toBe(want);
  });
});

describe('defaultTorchaudio', () => {
  test.each([
    { name: 'torch 2.0.0 pairs with torchaudio 2.0.1', torch: '2.0.0', want: '2.0.1' },
    { name: 'torch 2.0.1 pairs with torchaudio 2.0.2', torch: '2.0.1', want: '2.0.2' },
    { name: 'torch 2.1.0 pairs with the same number', torch: '2.1.0', want: '2.1.0' },
    { name: 'torch 2.2.2 pairs with the same number', torch: '2.2.2', want: '2.2.2' },
    { name: "torch 1.13.1 (Debian's) pairs with torchaudio 0.13.1", torch: '1.13.1', want: '0.13.1' },
    { name: 'torch 2.9.1 pairs with torchaudio 2.9.1 (from the table)', torch: '2.9.1', want: '2.9.1' },
    { name: 'an unknown 2.0 patch (2.0.5) falls back to the 2.0.(x+1) rule', torch: '2.0.5', want: '2.0.6' },
    { name: 'an unknown release (2.10.0) falls back to the same number', torch: '2.10.0', want: '2.10.0' },
  ])('$name', ({ torch, want }) => {
    expect(defaultTorchaudio(torch)).toBe(want);
  });
});

describe('checkVariant and checkVersion', () => {
  test.each([
    { name: 'variant cpu', check: () => checkVariant('cpu', 'torch-variants') },
    { name: 'variant cu124', check: () => checkVariant('cu124', 'torch-variants') },
    { name: 'version 2.2.2', check: () => checkVersion('2.2.2', 'torch-version') },
    { name: 'version 2.2 (two parts)', check: () => checkVersion('2.2', 'torch-version') },
    { name: 'pre-release 1.13.0a0', check: () => checkVersion('1.13.0a0', 'torch-version') },
    { name: 'release candidate 2.3.0rc1', check: () => checkVersion('2.3.0rc1', 'torch-version') },
  ])('accepts $name', ({ check }) => {
    expect(check).not.toThrow();
  });

  test.each([
    { name: 'variant CU121 (upper case)', check: () => checkVariant('CU121', 'torch-variants'), input: 'torch-variants', value: 'CU121' },
    { name: 'variant rocm', check: () => checkVariant('rocm5.7', 'torch-variants'), input: 'torch-variants', value: 'rocm5.7' },
    { name: 'version range', check: () => checkVersion('>=2.2', 'torch-version'), input: 'torch-version', value: '>=2.2' },
    { name: 'version with local tag', check: () => checkVersion('2.2.2+cpu', 'torchaudio-version'), input: 'torchaudio-version', value: '2.2.2+cpu' },
    { name: 'bare major version', check: () => checkVersion('2', 'torch-version'), input: 'torch-version', value: "'2'" },
  ])('refuses $name', ({ check, input, value }) => {
    expect(check).toThrow(InputError);
    expect(check).toThrow(`Input '${input}'`);
    expect(check).toThrow(value);
  });
});

describe('indexUrl', () => {
  test.each([
    { name: 'appends the variant', base: 'https://download.pytorch.org/whl', variant: 'cu121', want: 'https://download.pytorch.org/whl/cu121' },
    { name: 'drops trailing slashes of the base', base: 'https://mirror.example/whl//', variant: 'cpu', want: 'https://mirror.example/whl/cpu' },
  ])('$name', ({ base, variant, want }) => {
    expect(indexUrl(base, variant)).toBe(want);
  });
});
