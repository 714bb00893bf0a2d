import { InputError } from '../../src/errors';
import { TORCH_TABLE } from '../../src/plan/compat';
import { createPlan } from '../../src/plan/plan';
import { describeSource, resolveTorch, tableResolution } from '../../src/plan/preflight';
import { IndexUnavailable, parseJsonPage, type IndexPage, type PageSource } from '../../src/plan/wheel-index';
import { FROZEN_NOW, inputs, runContext } from './fixtures';

// Pages are CONSTRUCTED (PEP 691 JSON) with the file names the real index uses; see wheel-index.test.ts.

function source(pages: Record<string, string[]>): PageSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async page(variantIndexUrl, project): Promise<IndexPage | null> {
      const url = `${variantIndexUrl}/${project}/`;
      asked.push(url);
      const files = pages[`${variantIndexUrl.split('/').pop()}/${project}`];
      if (!files) return null;
      return {
        url,
        format: 'json',
        files: parseJsonPage(JSON.stringify({ meta: { 'api-version': '1.0' }, files: files.map((f) => ({ filename: f, url: f })) }), url),
      };
    },
  };
}

const offline: PageSource = {
  async page(variantIndexUrl, project) {
    throw new IndexUnavailable(`${variantIndexUrl}/${project}/`, 'getaddrinfo ENOTFOUND download.pytorch.org (ENOTFOUND)');
  },
};

const py = ['cp310-cp310', 'cp311-cp311', 'cp312-cp312'];
const files = (project: string, version: string, platform: string) => py.map((t) => `${project}-${version}-${t}-${platform}.whl`);

/** A release the table does not know (2.12.0), as an index could hold it. */
const NEWER = {
  'cu130/torch': [...files('torch', '2.12.0+cu130', 'manylinux_2_28_x86_64'), ...files('torch', '2.12.0+cu130', 'manylinux_2_28_aarch64')],
  'cu130/torchaudio': [...files('torchaudio', '2.12.0+cu130', 'manylinux_2_28_x86_64'), ...files('torchaudio', '2.12.0+cu130', 'manylinux_2_28_aarch64')],
  'cpu/torch': files('torch', '2.12.0+cpu', 'manylinux_2_28_aarch64'),
  'cpu/torchaudio': files('torchaudio', '2.12.0+cpu', 'manylinux_2_28_aarch64'),
};

describe('resolveTorch: the index decides when it answers', () => {
  test('a release the table does not know is planned from its wheels, without allow-unknown-torch', async () => {
    const r = await resolveTorch(
      inputs({ torchVersion: '2.12.0', torchaudioVersion: '2.12.0', torchVariants: { 'linux/amd64': 'cu130', 'linux/arm64': 'cpu' } }),
      source(NEWER),
    );
    expect(r.expect).toEqual({
      'linux/amd64': { torch: '2.12.0+cu130', torchaudio: '2.12.0+cu130', cuda: '13.0' },
      'linux/arm64': { torch: '2.12.0+cpu', torchaudio: '2.12.0+cpu', cuda: null },
    });
    expect(r.source).toEqual({ kind: 'index', base: 'https://download.pytorch.org/whl', formats: ['json'], pages: expect.any(Array) });
    expect(r.warnings).toEqual([]);
    expect(r.notes.join('\n')).toContain(`torch 2.12.0 is not in the bundled table (dated ${TORCH_TABLE.date}); its wheels are on the index`);
    expect(r.notes[0]).toBe(
      "linux/amd64=cu130: torch 2.12.0+cu130, torchaudio 2.12.0+cu130 for Python 3.10, 3.11, 3.12 (set python-version to check the image's), from https://download.pytorch.org/whl/cu130",
    );
  });

  test('a combination the table refuses is built when the index has its wheels (the index is the truth)', async () => {
    // The table knows no aarch64 cu126 wheel for 2.8.0; an index that has one wins.
    const pages = {
      'cu126/torch': files('torch', '2.8.0+cu126', 'manylinux_2_28_aarch64'),
      'cu126/torchaudio': files('torchaudio', '2.8.0', 'manylinux_2_28_aarch64'),
    };
    const i = inputs({ torchVersion: '2.8.0', torchaudioVersion: '2.8.0', platforms: [inputs().platforms[1]], torchVariants: { 'linux/arm64': 'cu126' } });
    expect(() => tableResolution(i)).toThrow("Input 'torch-variants'");
    const r = await resolveTorch(i, source(pages));
    expect(r.expect['linux/arm64']).toEqual({ torch: '2.8.0+cu126', torchaudio: '2.8.0', cuda: '12.6' });
  });

  test("pairing stays the table's: torchaudio from another release is refused before the index is asked", async () => {
    const s = source(NEWER);
    await expect(resolveTorch(inputs({ torchaudioVersion: '2.1.0' }), s)).rejects.toThrow(
      "Input 'torchaudio-version': torchaudio 2.1.0 is not the release that pairs with torch 2.2.2",
    );
    expect(s.asked).toEqual([]);
  });

  test('a missing wheel is refused, not fallen back on', async () => {
    await expect(
      resolveTorch(
        inputs({ torchVersion: '2.12.0', torchaudioVersion: '2.12.0', torchVariants: { 'linux/amd64': 'cu126', 'linux/arm64': 'cpu' } }),
        source(NEWER),
      ),
    ).rejects.toThrow("Input 'torch-variants': linux/amd64=cu126: the cu126 index has no torch 2.12.0 wheel for linux/amd64 (x86_64)");
  });
});

describe('resolveTorch: the bundled table when the index cannot be read', () => {
  test("the table's expectations, with a warning naming the index, why, and the table's date", async () => {
    const r = await resolveTorch(inputs(), offline);
    expect(r.expect).toEqual({
      'linux/amd64': { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' },
      'linux/arm64': { torch: '2.2.2', torchaudio: '2.2.2', cuda: null },
    });
    expect(r.source).toEqual({ kind: 'table', date: TORCH_TABLE.date, reason: expect.stringContaining('ENOTFOUND') });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain(
      'torch wheels: the index https://download.pytorch.org/whl could not be read (https://download.pytorch.org/whl/cu121/torch/: getaddrinfo ENOTFOUND',
    );
    expect(r.warnings[0]).toContain(`the bundled compatibility table, dated ${TORCH_TABLE.date}`);
    expect(describeSource(r.source)).toMatch(new RegExp(`^bundled table, dated ${TORCH_TABLE.date} \\(the index could not be read: .*ENOTFOUND`));
  });

  test('a table refusal says the table decided because the index could not', async () => {
    const e = await resolveTorch(
      inputs({ torchVersion: '2.8.0', torchaudioVersion: '2.8.0', torchVariants: { 'linux/amd64': 'cu128', 'linux/arm64': 'cu128' } }),
      offline,
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe('torch-variants');
    expect((e as Error).message).toContain('linux/arm64=cu128 is not published for torch 2.8.0 on linux/arm64; published: cpu, cu129');
    expect((e as Error).message).toContain(
      `(decided by the bundled table, dated ${TORCH_TABLE.date}: the index https://download.pytorch.org/whl could not be read:`,
    );
  });

  test('an unknown release is refused unless allow-unknown-torch, then expected by the rule for unknown releases', async () => {
    const newer = { torchVersion: '2.12.0', torchaudioVersion: '2.12.0', torchVariants: { 'linux/amd64': 'cu130', 'linux/arm64': 'cpu' } };
    await expect(resolveTorch(inputs(newer), offline)).rejects.toThrow("Input 'torch-version': torch 2.12.0 is not in the compatibility table");
    const r = await resolveTorch(inputs({ ...newer, allowUnknownTorch: true }), offline);
    expect(r.expect['linux/arm64']).toEqual({ torch: '2.12.0+cpu', torchaudio: '2.12.0+cpu', cuda: null });
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[1]).toContain('allow-unknown-torch is set, so nothing was checked');
  });
});

describe('createPlan with a resolution', () => {
  test("the index's expectations, the expect input still wins, and the source is recorded", async () => {
    const i = inputs({
      torchVersion: '2.12.0',
      torchaudioVersion: '2.12.0',
      torchVariants: { 'linux/amd64': 'cu130', 'linux/arm64': 'cpu' },
      expect: { 'linux/arm64': { torch: '2.12.0' } },
    });
    const plan = createPlan(i, runContext(), FROZEN_NOW, undefined, await resolveTorch(i, source(NEWER)));
    expect(plan.platforms.map((p) => p.expect)).toEqual([
      { torch: '2.12.0+cu130', torchaudio: '2.12.0+cu130', cuda: '13.0' },
      { torch: '2.12.0', torchaudio: '2.12.0+cpu', cuda: null },
    ]);
    expect(plan.wheelSource.kind).toBe('index');
    expect(plan.platforms[0].wheels?.torch.files).toEqual(files('torch', '2.12.0+cu130', 'manylinux_2_28_x86_64'));
  });

  test('without one, the table decides and the source says so', () => {
    const plan = createPlan(inputs(), runContext(), FROZEN_NOW);
    expect(plan.wheelSource).toEqual({ kind: 'table', date: TORCH_TABLE.date });
    expect(describeSource(plan.wheelSource)).toBe(`bundled table, dated ${TORCH_TABLE.date}`);
  });
});
