import { runDist, type ActionRun } from './support/action';
import { WheelIndex, type IndexRequest } from './support/services';

// The index preflight through dist/ in dry-run, against the stub index of examples/offline/make_index.py
// served on 127.0.0.1: it holds, for each release, exactly the wheels the compatibility table says the
// real index holds (so the four table errors of issue 7, fixed in the table, are in the index as they are
// on download.pytorch.org), answering PEP 691 JSON or, with htmlOnly, PEP 503 HTML only.
jest.setTimeout(5 * 60 * 1000);

const RELEASES = '2.4.1,2.5.1,2.7.1,2.8.0,2.9.0,2.9.1';
const json = new WheelIndex();
const html = new WheelIndex();
/** A release the table does not know, named by the table's rule for unknown releases. */
const newer = new WheelIndex();

beforeAll(() => Promise.all([json.start(RELEASES), html.start('2.9.0', { htmlOnly: true }), newer.start('2.12.0')]));
afterAll(() => {
  json.stop();
  html.stop();
  newer.stop();
});

const base = { image: 'ghcr.io/acme/worker', context: 'examples/worker', 'dry-run': 'true' };
const errorLine = (run: ActionRun) => run.output.split('\n').find((l) => l.startsWith('::error::')) ?? '';
const platformsOf = (run: ActionRun) => JSON.parse(run.outputs.plan)[0].platforms.map((p: { platform: string; expect: object }) => [p.platform, p.expect]);
const since = (index: WheelIndex, n: number): IndexRequest[] => index.requests().slice(n);

async function refused(index: WheelIndex, inputs: Record<string, string>): Promise<string> {
  const run = await runDist({ ...base, 'torch-index-url': index.url, ...inputs });
  const line = errorLine(run);
  console.log(
    `refused (${Object.entries(inputs)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}):\n${line.replace(index.url, 'http://127.0.0.1:PORT')}`,
  );
  expect(run.code).not.toBe(0);
  expect(run.output).not.toContain('::group::Build');
  return line.replace(/^::error::/, '');
}

describe('the four table errors of issue 7, against the index', () => {
  test('2.8.0 on linux/arm64 with cu128: refused, its aarch64 CUDA wheels are cu129 only', async () => {
    const msg = await refused(json, { 'torch-version': '2.8.0', 'torch-variants': 'linux/amd64=cu128,linux/arm64=cu128' });
    expect(msg).toBe(
      `Input 'torch-variants': linux/arm64=cu128: the cu128 index has no torch 2.8.0 wheel for linux/arm64 (aarch64) (read from ${json.url}/cu128/torch/); ` +
        'torch 2.8.0 has aarch64 wheels on: cpu, cu129; nearest torch releases with cu128 aarch64 wheels: 2.7.1, 2.9.0, 2.9.1',
    );
  });

  test('2.8.0 on linux/arm64 with cu129: planned from the wheel names', async () => {
    const run = await runDist({ ...base, 'torch-index-url': json.url, 'torch-version': '2.8.0', 'torch-variants': 'linux/amd64=cu128,linux/arm64=cu129' });
    expect(run.code).toBe(0);
    expect(platformsOf(run)).toEqual([
      ['linux/amd64', { torch: '2.8.0+cu128', torchaudio: '2.8.0+cu128', cuda: '12.8' }],
      ['linux/arm64', { torch: '2.8.0+cu129', torchaudio: '2.8.0', cuda: '12.9' }],
    ]);
  });

  test('2.9.0 with cu129 on both platforms: accepted (the index has it; the install page does not say)', async () => {
    const run = await runDist({ ...base, 'torch-index-url': json.url, 'torch-version': '2.9.0', 'torch-variants': 'linux/amd64=cu129,linux/arm64=cu129' });
    expect(run.code).toBe(0);
    expect(platformsOf(run)).toEqual([
      ['linux/amd64', { torch: '2.9.0+cu129', torchaudio: '2.9.0+cu129', cuda: '12.9' }],
      ['linux/arm64', { torch: '2.9.0+cu129', torchaudio: '2.9.0', cuda: '12.9' }],
    ]);
    expect(run.output).not.toContain('::warning::');
  });

  test('2.9.1 with cu129: accepted on linux/amd64, refused on linux/arm64 (x86_64 wheels only)', async () => {
    const ok = await runDist({ ...base, 'torch-index-url': json.url, 'torch-version': '2.9.1', 'torch-variants': 'linux/amd64=cu129,linux/arm64=cpu' });
    expect(ok.code).toBe(0);
    expect(platformsOf(ok)).toEqual([
      ['linux/amd64', { torch: '2.9.1+cu129', torchaudio: '2.9.1+cu129', cuda: '12.9' }],
      ['linux/arm64', { torch: '2.9.1+cpu', torchaudio: '2.9.1', cuda: null }],
    ]);
    const msg = await refused(json, { 'torch-version': '2.9.1', 'torch-variants': 'linux/amd64=cu129,linux/arm64=cu129' });
    expect(msg).toBe(
      `Input 'torch-variants': linux/arm64=cu129: the cu129 index has no torch 2.9.1 wheel for linux/arm64 (aarch64) (read from ${json.url}/cu129/torch/); ` +
        'torch 2.9.1 has aarch64 wheels on: cpu, cu126, cu128, cu130; nearest torch releases with cu129 aarch64 wheels: 2.9.0',
    );
  });

  test('2.4.1 on linux/arm64 with cu124: refused, the index has torch but no aarch64 torchaudio for it; 2.5.1 is fine', async () => {
    const msg = await refused(json, { 'torch-version': '2.4.1', 'torch-variants': 'linux/amd64=cu124,linux/arm64=cu124' });
    expect(msg).toBe(
      `Input 'torch-variants': linux/arm64=cu124: the cu124 index has torch 2.4.1 for linux/arm64 (aarch64) but no torchaudio 2.4.1 wheel for it (read from ${json.url}/cu124/torchaudio/); ` +
        'torchaudio 2.4.1 has aarch64 wheels on: cpu; nearest torchaudio releases with cu124 aarch64 wheels: 2.5.1',
    );
    const ok = await runDist({ ...base, 'torch-index-url': json.url, 'torch-version': '2.5.1', 'torch-variants': 'linux/amd64=cu124,linux/arm64=cu124' });
    expect(ok.code).toBe(0);
    expect(platformsOf(ok)[1]).toEqual(['linux/arm64', { torch: '2.5.1', torchaudio: '2.5.1', cuda: '12.4' }]);
  });

  test('a release the table does not know: planned from its wheels without allow-unknown-torch (torch and torchaudio +cpu on aarch64)', async () => {
    const run = await runDist({ ...base, 'torch-index-url': newer.url, 'torch-version': '2.12.0', 'torch-variants': 'linux/amd64=cu130,linux/arm64=cpu' });
    expect(run.code).toBe(0);
    expect(platformsOf(run)).toEqual([
      ['linux/amd64', { torch: '2.12.0+cu130', torchaudio: '2.12.0+cu130', cuda: '13.0' }],
      ['linux/arm64', { torch: '2.12.0+cpu', torchaudio: '2.12.0+cpu', cuda: null }],
    ]);
    expect(run.output).toContain('torch 2.12.0 is not in the bundled table (dated 2026-11-24); its wheels are on the index, so the plan follows them');
  });

  test('a release the table does not know, on a variant the index lacks for aarch64: refused from the index', async () => {
    const msg = await refused(newer, { 'torch-version': '2.12.0', 'torch-variants': 'linux/amd64=cu128,linux/arm64=cu128' });
    expect(msg).toBe(
      `Input 'torch-variants': linux/arm64=cu128: the cu128 index has no torch 2.12.0 wheel for linux/arm64 (aarch64) (read from ${newer.url}/cu128/torch/); ` +
        'torch 2.12.0 has aarch64 wheels on: cpu, cu130; the cu128 index has no torch wheels for aarch64 at all',
    );
  });
});

describe('python-version', () => {
  test("the image's Python must have wheels", async () => {
    const msg = await refused(json, { 'torch-version': '2.9.0', 'torch-variants': 'linux/amd64=cu129,linux/arm64=cpu', 'python-version': '3.9' });
    expect(msg).toBe(
      `Input 'python-version': linux/amd64=cu129: the cu129 index has torch 2.9.0+cu129 for linux/amd64 (x86_64) but not for Python 3.9; it has Python 3.10, 3.11, 3.12, 3.13, 3.13t, 3.14, 3.14t (read from ${json.url}/cu129/torch/)`,
    );
  });

  test('with it, the plan names the wheel file it found for each platform', async () => {
    const run = await runDist({
      ...base,
      'torch-index-url': json.url,
      'torch-version': '2.9.0',
      'torch-variants': 'linux/amd64=cu129,linux/arm64=cpu',
      'python-version': '3.11',
    });
    expect(run.code).toBe(0);
    const [plan] = JSON.parse(run.outputs.plan);
    expect(plan.platforms.map((p: { wheels: { torch: string[] } }) => p.wheels.torch)).toEqual([
      ['torch-2.9.0+cu129-cp311-cp311-manylinux_2_28_x86_64.whl'],
      ['torch-2.9.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl'],
    ]);
  });
});

describe('both index formats, each page once', () => {
  const inputs = { 'torch-version': '2.9.0', 'torch-variants': 'linux/amd64=cu129,linux/arm64=cu129' };
  const want = [
    ['linux/amd64', { torch: '2.9.0+cu129', torchaudio: '2.9.0+cu129', cuda: '12.9' }],
    ['linux/arm64', { torch: '2.9.0+cu129', torchaudio: '2.9.0', cuda: '12.9' }],
  ];

  test('PEP 691 JSON where the server speaks it', async () => {
    const n = json.requests().length;
    const run = await runDist({ ...base, 'torch-index-url': json.url, ...inputs });
    expect(run.code).toBe(0);
    expect(platformsOf(run)).toEqual(want);
    const asked = since(json, n);
    expect(asked.map((r) => [r.path, r.answered])).toEqual([
      ['/cu129/torch/', 'json'],
      ['/cu129/torchaudio/', 'json'],
    ]);
    expect(asked.every((r) => r.accept.startsWith('application/vnd.pypi.simple.v1+json'))).toBe(true);
    expect(run.output).toContain(`torch wheels: index ${json.url} (PEP 691 JSON)`);
    expect(JSON.parse(run.outputs.plan)[0].wheels).toEqual({ source: 'index', url: json.url, formats: ['json'] });
  });

  test('PEP 503 HTML where the server has only that, to the same plan', async () => {
    const n = html.requests().length;
    const run = await runDist({ ...base, 'torch-index-url': html.url, ...inputs });
    expect(run.code).toBe(0);
    expect(platformsOf(run)).toEqual(want);
    expect(since(html, n).map((r) => [r.path, r.answered])).toEqual([
      ['/cu129/torch/', 'html'],
      ['/cu129/torchaudio/', 'html'],
    ]);
    expect(run.output).toContain(`torch wheels: index ${html.url} (PEP 503 HTML)`);
    expect(run.summary).toContain(`- torch wheels: index ${html.url} (PEP 503 HTML)`);
  });

  test('a refusal reads every variant page once, however many times the plan needs it', async () => {
    const n = json.requests().length;
    await refused(json, { 'torch-version': '2.8.0', 'torch-variants': 'linux/amd64=cu128,linux/arm64=cu128' });
    const paths = since(json, n).map((r) => r.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toContain('/cu129/torch/');
  });
});

describe('offline: the bundled table, with a warning naming its date', () => {
  let closed = '';
  beforeAll(async () => {
    // A port that was just free and is closed again: nothing listens there.
    const probe = await new WheelIndex().start('2.2.2');
    closed = probe.url;
    probe.stop();
  });

  test('the table plans, and says the index could not be read', async () => {
    const run = await runDist({ ...base, 'torch-index-url': closed, 'torch-version': '2.9.0', 'torch-variants': 'linux/amd64=cu129,linux/arm64=cu129' });
    expect(run.code).toBe(0);
    const warning = run.output.split('\n').find((l) => l.startsWith('::warning::torch wheels:')) ?? '';
    console.log(`offline fallback:\n${warning.replace(closed, 'http://127.0.0.1:PORT')}`);
    expect(warning).toMatch(
      new RegExp(
        `^::warning::torch wheels: the index ${closed} could not be read \\(${closed}/cu129/torch/: .*ECONNREFUSED.*\\); the plan follows the bundled compatibility table, dated 2026-11-24, which goes stale as PyTorch releases`,
      ),
    );
    expect(platformsOf(run)).toEqual([
      ['linux/amd64', { torch: '2.9.0+cu129', torchaudio: '2.9.0+cu129', cuda: '12.9' }],
      ['linux/arm64', { torch: '2.9.0+cu129', torchaudio: '2.9.0', cuda: '12.9' }],
    ]);
    expect(JSON.parse(run.outputs.plan)[0].wheels).toEqual({ source: 'table', date: '2026-11-24' });
    expect(run.summary).toContain('- torch wheels: bundled table, dated 2026-11-24 (the index could not be read:');
  });

  test('the fixed table refuses the same combinations, saying it decided because the index could not', async () => {
    const msg = await refused({ url: closed } as WheelIndex, { 'torch-version': '2.8.0', 'torch-variants': 'linux/amd64=cu128,linux/arm64=cu128' });
    expect(msg).toContain(
      "Input 'torch-variants': linux/arm64=cu128 is not published for torch 2.8.0 on linux/arm64; published: cpu, cu129 (decided by the bundled table, dated 2026-11-24: the index",
    );
  });

  test('a release the table does not know: refused without allow-unknown-torch, planned by the rule for unknown releases with it', async () => {
    const newerInputs = { 'torch-version': '2.12.0', 'torch-variants': 'linux/amd64=cu130,linux/arm64=cpu' };
    const msg = await refused({ url: closed } as WheelIndex, newerInputs);
    expect(msg).toContain(
      "Input 'torch-version': torch 2.12.0 is not in the compatibility table (it covers 2.0.0 to 2.11.0, dated 2026-11-24); nearest known: 2.11.0.",
    );
    expect(msg).toContain("set 'allow-unknown-torch: true' (decided by the bundled table, dated 2026-11-24: the index");
    const run = await runDist({ ...base, 'torch-index-url': closed, ...newerInputs, 'allow-unknown-torch': 'true' });
    expect(run.code).toBe(0);
    expect(platformsOf(run)[1]).toEqual(['linux/arm64', { torch: '2.12.0+cpu', torchaudio: '2.12.0+cpu', cuda: null }]);
  });
});
