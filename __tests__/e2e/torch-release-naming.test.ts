import { leftoverContainers, runDist } from './support/action';
import { LOCAL_BASE_ARGS, WheelIndex } from './support/services';

// A later release, where the compatibility table says the wheels are named differently: from
// 2.6.0 the aarch64 CPU torch wheel carries +cpu while its torchaudio stays untagged. The stub
// index follows the same table, so this checks that the plan's expectations, pip's choice from
// a PyTorch-style index and the probe agree end to end on both platforms.
jest.setTimeout(20 * 60 * 1000);

const index = new WheelIndex();
beforeAll(() => index.start('2.6.0'));
afterAll(() => index.stop());

test('torch 2.6.0: cu126 on amd64, cpu on arm64 (torch +cpu, torchaudio bare)', async () => {
  const run = await runDist({
    image: '127.0.0.1:5999/example/worker-2.6',
    context: 'examples/worker',
    'torch-version': '2.6.0',
    'torch-variants': 'linux/amd64=cu126,linux/arm64=cpu',
    'torch-index-url': index.url,
    network: 'host',
    'build-args': LOCAL_BASE_ARGS,
    push: 'false',
  });
  console.log(`torch 2.6.0 both platforms: ${run.seconds.toFixed(1)}s`);
  if (run.code !== 0) console.log(run.output.slice(-3000));
  expect(run.code).toBe(0);
  const report = JSON.parse(run.outputs.report);
  expect(report.map((r: { platform: string; seen: unknown }) => [r.platform, r.seen])).toEqual([
    ['linux/amd64', { torch: '2.6.0+cu126', torchaudio: '2.6.0+cu126', cuda: '12.6', machine: 'x86_64' }],
    ['linux/arm64', { torch: '2.6.0+cpu', torchaudio: '2.6.0', cuda: null, machine: 'aarch64' }],
  ]);
  expect(leftoverContainers()).toEqual([]);
});
