import { leftoverContainers, runDist } from './support/action';

// Bad input is refused before any build minute is spent, with the input named.
jest.setTimeout(5 * 60 * 1000);

const base = { image: '127.0.0.1:5999/example/worker', context: 'examples/worker', push: 'false' };

const cases: Array<{ name: string; inputs: Record<string, string>; error: RegExp }> = [
  { name: 'unknown platform', inputs: { platforms: 'linux/amd64,linux/s390x' }, error: /Input 'platforms': unknown platform 'linux\/s390x'; accepted: linux\/amd64, linux\/arm64/ },
  { name: 'malformed torch-variants', inputs: { 'torch-variants': 'linux/amd64:cu121' }, error: /Input 'torch-variants': 'linux\/amd64:cu121' is not PLATFORM=VARIANT/ },
  { name: 'unknown torch variant', inputs: { 'torch-variants': 'linux/amd64=cuda12,linux/arm64=cpu' }, error: /Input 'torch-variants': unknown torch variant 'cuda12'; accepted: cpu or a CUDA variant/ },
  { name: 'non-numeric startup-timeout', inputs: { 'startup-timeout': 'ten' }, error: /Input 'startup-timeout': 'ten' is not a whole number from 1 to 86400/ },
  { name: 'empty image', inputs: { image: '' }, error: /Input 'image': is required/ },
  { name: 'image with a tag', inputs: { image: 'ghcr.io/o/worker:latest' }, error: /Input 'image': 'ghcr.io\/o\/worker:latest' includes a tag or digest/ },
  { name: 'CUDA variant on arm64', inputs: { 'torch-variants': 'linux/amd64=cu121,linux/arm64=cu121' }, error: /Input 'torch-variants': linux\/arm64=cu121 is not available/ },
];

test.each(cases)('$name', async ({ inputs, error }) => {
  const run = await runDist({ ...base, ...inputs });
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(new RegExp(`::error::${error.source}`));
  expect(run.output).not.toContain('::group::Build');
  expect(leftoverContainers()).toEqual([]);
});
