import { InputError } from '../../src/errors';
import {
  IndexUnavailable,
  knownVariants,
  nearestOf,
  normalizeName,
  ofRelease,
  pageWheels,
  parseHtmlPage,
  parseJsonPage,
  parseWheelName,
  pickWheels,
  releasesOnPage,
  resolveFromIndex,
  supportsPython,
  wheelArch,
  wheelPythons,
  type IndexPage,
  type IndexRequest,
  type PageSource,
} from '../../src/plan/wheel-index';

// Index pages here are CONSTRUCTED from the documented formats (PEP 503, PEP 691) and from the shape
// of download.pytorch.org's HTML as quoted in astral-sh/uv#13195 (absolute hrefs with %2B for '+',
// #sha256= fragments, data-dist-info-metadata attributes); the real index cannot be reached from here.

describe('parseWheelName (PEP 427)', () => {
  test.each([
    {
      name: 'a CUDA x86_64 wheel of the PyTorch index',
      file: 'torch-2.2.2+cu121-cp311-cp311-linux_x86_64.whl',
      want: { project: 'torch', version: '2.2.2+cu121', python: ['cp311'], abi: ['cp311'], platform: ['linux_x86_64'] },
    },
    {
      name: 'an untagged aarch64 wheel with a compressed platform tag set',
      file: 'torch-2.2.2-cp310-cp310-manylinux_2_17_aarch64.manylinux2014_aarch64.whl',
      want: { project: 'torch', version: '2.2.2', platform: ['manylinux_2_17_aarch64', 'manylinux2014_aarch64'] },
    },
    { name: 'a free-threaded build', file: 'torch-2.7.0+cu128-cp313-cp313t-manylinux_2_28_aarch64.whl', want: { abi: ['cp313t'] } },
    { name: 'a build tag', file: 'torchaudio-2.2.2-1-cp311-cp311-linux_x86_64.whl', want: { version: '2.2.2', build: '1' } },
    {
      name: 'a name with an underscore normalises to a dash',
      file: 'nvidia_cuda_nvrtc_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl',
      want: { project: 'nvidia-cuda-nvrtc-cu12' },
    },
    { name: 'a compressed python tag set', file: 'six-1.16.0-py2.py3-none-any.whl', want: { python: ['py2', 'py3'], platform: ['any'] } },
  ])('$name', ({ file, want }) => {
    expect(parseWheelName(file)).toMatchObject({ filename: file, ...want });
  });

  test.each([
    { name: 'a source archive', file: 'torch-2.2.2.tar.gz' },
    { name: 'too few fields', file: 'torch-2.2.2-linux_x86_64.whl' },
    { name: 'too many fields', file: 'torch-2.2.2-1-2-cp311-cp311-linux_x86_64.whl' },
    { name: 'a version not starting with a digit', file: 'torch-latest-cp311-cp311-linux_x86_64.whl' },
    { name: 'a build tag not starting with a digit', file: 'torch-2.2.2-b1-cp311-cp311-linux_x86_64.whl' },
    { name: 'an empty tag', file: 'torch-2.2.2-cp311--linux_x86_64.whl' },
  ])('$name is not a wheel name', ({ file }) => {
    expect(parseWheelName(file)).toBeNull();
  });

  test.each([
    { raw: 'Torch', want: 'torch' },
    { raw: 'torch_audio', want: 'torch-audio' },
    { raw: 'A.B__c-d', want: 'a-b-c-d' },
  ])('normalizeName($raw) = $want', ({ raw, want }) => {
    expect(normalizeName(raw)).toBe(want);
  });
});

describe('architecture and Python of a wheel', () => {
  test.each([
    { file: 'torch-2.2.2+cu121-cp311-cp311-linux_x86_64.whl', arch: 'x86_64', pythons: ['3.11'] },
    { file: 'torch-2.7.0+cu128-cp312-cp312-manylinux_2_28_x86_64.whl', arch: 'x86_64', pythons: ['3.12'] },
    { file: 'torch-2.4.0-cp310-cp310-linux_aarch64.whl', arch: 'aarch64', pythons: ['3.10'] },
    { file: 'torch-2.2.2-cp38-cp38-manylinux_2_17_aarch64.manylinux2014_aarch64.whl', arch: 'aarch64', pythons: ['3.8'] },
    { file: 'torch-2.7.0+cu128-cp313-cp313t-manylinux_2_28_aarch64.whl', arch: 'aarch64', pythons: ['3.13t'] },
    { file: 'torch-2.2.2+cu121-cp311-cp311-win_amd64.whl', arch: null, pythons: ['3.11'] },
    { file: 'torch-2.2.2-cp311-none-macosx_11_0_arm64.whl', arch: null, pythons: ['3.11'] },
    { file: 'torch-2.2.2-cp311-cp311-musllinux_1_2_x86_64.whl', arch: null, pythons: ['3.11'] },
    { file: 'x-1.0-cp39-abi3-manylinux_2_28_x86_64.whl', arch: 'x86_64', pythons: ['3.9+'] },
    { file: 'x-1.0-py3-none-any.whl', arch: null, pythons: ['py3'] },
  ])('$file: $arch, $pythons', ({ file, arch, pythons }) => {
    const w = parseWheelName(file)!;
    expect(wheelArch(w)).toBe(arch);
    expect(wheelPythons(w)).toEqual(pythons);
  });

  test.each([
    { file: 'torch-2.2.2-cp311-cp311-linux_x86_64.whl', python: '3.11', ok: true },
    { file: 'torch-2.2.2-cp311-cp311-linux_x86_64.whl', python: '3.12', ok: false },
    { file: 'torch-2.7.0-cp313-cp313t-linux_x86_64.whl', python: '3.13', ok: false },
    { file: 'torch-2.7.0-cp313-cp313t-linux_x86_64.whl', python: '3.13t', ok: true },
    { file: 'x-1.0-cp39-abi3-linux_x86_64.whl', python: '3.12', ok: true },
    { file: 'x-1.0-cp39-abi3-linux_x86_64.whl', python: '3.8', ok: false },
    { file: 'x-1.0-cp39-abi3-linux_x86_64.whl', python: '3.13t', ok: false },
    { file: 'x-1.0-py3-none-any.whl', python: '3.11', ok: true },
  ])('$file on Python $python: $ok', ({ file, python, ok }) => {
    expect(supportsPython(parseWheelName(file)!, python)).toBe(ok);
  });
});

/** A constructed PEP 503 page shaped like download.pytorch.org's (see the note at the top). */
function htmlPage(variant: string, files: string[]): string {
  const links = files.map((f) => {
    const href = `/whl/${variant}/${f.replace(/\+/g, '%2B')}`;
    return `    <a href="${href}#sha256=${'0'.repeat(64)}" data-dist-info-metadata="sha256=${'1'.repeat(64)}" data-core-metadata="sha256=${'1'.repeat(64)}">${f}</a><br/>`;
  });
  return `<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for torch</h1>\n${links.join('\n')}\n  </body>\n</html>\n`;
}

/** A constructed PEP 691 page. */
function jsonPage(files: string[], extra: object = {}): string {
  return JSON.stringify({
    meta: { 'api-version': '1.1' },
    name: 'torch',
    files: files.map((f) => ({ filename: f, url: `${f.replace(/\+/g, '%2B')}`, hashes: { sha256: '0'.repeat(64) }, ...extra })),
  });
}

describe('index pages', () => {
  const PAGE = 'https://download.pytorch.org/whl/cu121/torch/';
  const files = ['torch-2.2.2+cu121-cp311-cp311-linux_x86_64.whl', 'torch-2.2.2+cu121-cp311-cp311-win_amd64.whl'];

  test('PEP 503 HTML: the anchor text is the file name, hrefs resolve against the page', () => {
    expect(parseHtmlPage(htmlPage('cu121', files), PAGE)).toEqual([
      {
        filename: files[0],
        url: `https://download.pytorch.org/whl/cu121/torch-2.2.2%2Bcu121-cp311-cp311-linux_x86_64.whl#sha256=${'0'.repeat(64)}`,
        yanked: false,
      },
      {
        filename: files[1],
        url: `https://download.pytorch.org/whl/cu121/torch-2.2.2%2Bcu121-cp311-cp311-win_amd64.whl#sha256=${'0'.repeat(64)}`,
        yanked: false,
      },
    ]);
  });

  test.each([
    {
      name: 'relative hrefs and single quotes',
      html: `<a href='torch-1.0-py3-none-any.whl'>torch-1.0-py3-none-any.whl</a>`,
      want: { filename: 'torch-1.0-py3-none-any.whl', url: `${PAGE}torch-1.0-py3-none-any.whl` },
    },
    { name: 'entities in href and text', html: `<a href="x.whl?a=1&amp;b=2">torch-1.0-py3-none-any.whl</a>`, want: { url: `${PAGE}x.whl?a=1&b=2` } },
    {
      name: 'an unquoted href, upper-case tag',
      html: `<A HREF=torch-1.0-py3-none-any.whl>torch-1.0-py3-none-any.whl</A>`,
      want: { filename: 'torch-1.0-py3-none-any.whl' },
    },
    { name: 'data-yanked', html: `<a href="t.whl" data-yanked="broken">torch-1.0-py3-none-any.whl</a>`, want: { yanked: true } },
    {
      name: 'an empty anchor text: the name from the href',
      html: `<a href="/f/torch-2.2.2%2Bcpu-cp311-cp311-linux_x86_64.whl"></a>`,
      want: { filename: 'torch-2.2.2+cpu-cp311-cp311-linux_x86_64.whl' },
    },
    {
      name: 'a <base> moves relative hrefs',
      html: `<base href="https://mirror.example/files/"><a href="t.whl">torch-1.0-py3-none-any.whl</a>`,
      want: { url: 'https://mirror.example/files/t.whl' },
    },
  ])('PEP 503 HTML: $name', ({ html, want }) => {
    expect(parseHtmlPage(html, PAGE)[0]).toMatchObject(want);
  });

  test('PEP 503 HTML: anchors without href are skipped', () => {
    expect(parseHtmlPage('<a name="top">top</a>', PAGE)).toEqual([]);
  });

  test('PEP 691 JSON: files with URLs resolved against the page, yanked read', () => {
    const text = JSON.stringify({
      meta: { 'api-version': '1.0' },
      name: 'torch',
      files: [
        { filename: files[0], url: 'torch-2.2.2%2Bcu121-cp311-cp311-linux_x86_64.whl', hashes: {} },
        { filename: files[1], url: 'https://cdn.example/t.whl', hashes: {}, yanked: 'reason' },
        { url: 'no-filename.whl' },
      ],
    });
    expect(parseJsonPage(text, PAGE)).toEqual([
      { filename: files[0], url: `${PAGE}torch-2.2.2%2Bcu121-cp311-cp311-linux_x86_64.whl`, yanked: false },
      { filename: files[1], url: 'https://cdn.example/t.whl', yanked: true },
    ]);
  });

  test.each([
    { name: 'api-version 2', text: JSON.stringify({ meta: { 'api-version': '2.0' }, files: [] }), error: /api-version "2.0"/ },
    { name: 'no meta', text: JSON.stringify({ files: [] }), error: /api-version undefined/ },
    { name: 'no files list', text: JSON.stringify({ meta: { 'api-version': '1.0' } }), error: /no files list/ },
    { name: 'not JSON', text: '<html>', error: /JSON/ },
  ])('PEP 691 JSON: $name is refused', ({ text, error }) => {
    expect(() => parseJsonPage(text, PAGE)).toThrow(error);
  });
});

describe('selection: release, variant, architecture, Python', () => {
  const cu121 = pageWheels(
    parseHtmlPage(
      htmlPage('cu121', [
        ...['cp38', 'cp39', 'cp310', 'cp311', 'cp312'].map((cp) => `torch-2.2.2+cu121-${cp}-${cp}-linux_x86_64.whl`),
        'torch-2.2.2+cu121-cp311-cp311-win_amd64.whl',
        'torch-2.2.1+cu121-cp311-cp311-linux_x86_64.whl',
        'torch-2.1.2+cu121-cp311-cp311-linux_x86_64.whl',
        'torch-2.3.0+cu121-cp311-cp311-linux_x86_64.whl',
        'torchaudio-2.2.2+cu121-cp311-cp311-linux_x86_64.whl',
      ]),
      'https://i/whl/cu121/torch/',
    ),
    'torch',
  );
  const cpu = pageWheels(
    parseJsonPage(
      jsonPage([
        'torch-2.2.2+cpu-cp311-cp311-linux_x86_64.whl',
        'torch-2.2.2+cpu.cxx11.abi-cp311-cp311-linux_x86_64.whl',
        'torch-2.2.2-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl',
        'torch-2.6.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl',
        'torch-2.6.0+cpu-cp313-cp313t-manylinux_2_28_aarch64.whl',
      ]),
      'https://i/whl/cpu/torch/',
    ),
    'torch',
  );

  test.each([
    {
      name: 'cu121 x86_64, any Python: 2.2.2+cu121 for 3.8-3.12',
      wheels: cu121,
      release: '2.2.2',
      variant: 'cu121',
      arch: 'x86_64' as const,
      python: '',
      version: '2.2.2+cu121',
      pythons: ['3.8', '3.9', '3.10', '3.11', '3.12'],
    },
    {
      name: 'cu121 x86_64, Python 3.11: one file',
      wheels: cu121,
      release: '2.2.2',
      variant: 'cu121',
      arch: 'x86_64' as const,
      python: '3.11',
      version: '2.2.2+cu121',
      pythons: ['3.11'],
    },
    {
      name: 'cpu x86_64: +cpu, not the cxx11 build',
      wheels: cpu,
      release: '2.2.2',
      variant: 'cpu',
      arch: 'x86_64' as const,
      python: '',
      version: '2.2.2+cpu',
      pythons: ['3.11'],
    },
    {
      name: 'cpu aarch64 2.2.2: untagged',
      wheels: cpu,
      release: '2.2.2',
      variant: 'cpu',
      arch: 'aarch64' as const,
      python: '',
      version: '2.2.2',
      pythons: ['3.11'],
    },
    {
      name: 'cpu aarch64 2.6.0: +cpu, free-threaded listed apart',
      wheels: cpu,
      release: '2.6.0',
      variant: 'cpu',
      arch: 'aarch64' as const,
      python: '',
      version: '2.6.0+cpu',
      pythons: ['3.11', '3.13t'],
    },
  ])('$name', ({ wheels, release, variant, arch, python, version, pythons }) => {
    expect(pickWheels(wheels, 'torch', release, variant, arch, python)).toMatchObject({ version, pythons });
  });

  test.each([
    { name: 'no aarch64 wheel on cu121', wheels: cu121, release: '2.2.2', variant: 'cu121', arch: 'aarch64' as const, python: '' },
    { name: 'no Python 3.13 wheel of 2.2.2', wheels: cu121, release: '2.2.2', variant: 'cu121', arch: 'x86_64' as const, python: '3.13' },
    { name: 'no such release', wheels: cu121, release: '2.2.3', variant: 'cu121', arch: 'x86_64' as const, python: '' },
    { name: 'the local tag of another variant does not count', wheels: cu121, release: '2.2.2', variant: 'cu118', arch: 'x86_64' as const, python: '' },
  ])('none: $name', ({ wheels, release, variant, arch, python }) => {
    expect(pickWheels(wheels, 'torch', release, variant, arch, python)).toBeNull();
  });

  test('a tagged and a bare wheel of one release: the tagged one, as pip picks it (PEP 440 orders it higher)', () => {
    const w = pageWheels(
      parseJsonPage(jsonPage(['torch-2.4.0-cp311-cp311-linux_aarch64.whl', 'torch-2.4.0+cu124-cp311-cp311-linux_aarch64.whl']), 'https://i/'),
      'torch',
    );
    expect(pickWheels(w, 'torch', '2.4.0', 'cu124', 'aarch64', '')?.version).toBe('2.4.0+cu124');
  });

  test('yanked files and other projects are not wheels of the page', () => {
    const w = pageWheels(
      [
        { filename: 'torch-1.0-py3-none-any.whl', url: 'u', yanked: true },
        { filename: 'torchaudio-1.0-py3-none-any.whl', url: 'u', yanked: false },
      ],
      'torch',
    );
    expect(w).toEqual([]);
  });

  test.each([
    { version: '2.2.2', release: '2.2.2', variant: 'cu121', ok: true },
    { version: '2.2.2+cu121', release: '2.2.2', variant: 'cu121', ok: true },
    { version: '2.2.2+cpu', release: '2.2.2', variant: 'cu121', ok: false },
    { version: '2.2.2+cpu.cxx11.abi', release: '2.2.2', variant: 'cpu', ok: false },
    { version: '2.2.20', release: '2.2.2', variant: 'cpu', ok: false },
  ])('ofRelease($version, $release, $variant) = $ok', ({ version, release, variant, ok }) => {
    expect(ofRelease(version, release, variant)).toBe(ok);
  });

  test('releasesOnPage: per architecture, sorted by number', () => {
    expect(releasesOnPage(cu121, 'cu121', 'x86_64')).toEqual(['2.1.2', '2.2.1', '2.2.2', '2.3.0']);
    expect(releasesOnPage(cpu, 'cpu', 'aarch64')).toEqual(['2.2.2', '2.6.0']);
  });
});

describe('nearest releases', () => {
  const available = ['2.5.1', '2.7.0', '2.7.1', '2.9.0', '2.9.1', '2.10.0', '2.2.2'];
  test.each([
    { name: 'its own minor line', asked: '2.7.5', want: ['2.7.0', '2.7.1'] },
    { name: 'a missing line: the lines either side', asked: '2.8.0', want: ['2.7.0', '2.7.1', '2.9.0', '2.9.1'] },
    { name: 'numbers, not text: 2.10 is above 2.9', asked: '2.11.0', want: ['2.10.0'] },
    { name: 'below everything', asked: '2.0.0', want: ['2.2.2'] },
    { name: 'nothing available', asked: '2.0.0', want: [], available: [] },
  ])('$name', ({ asked, want, available: a }) => {
    expect(nearestOf(a ?? available, asked)).toEqual(want);
  });
});

/**
 * A PageSource over constructed pages: `pages` maps 'variant/project' to file names, served as
 * JSON or HTML; a variant in `down` throws IndexUnavailable. Counts the pages read.
 */
function constructedIndex(pages: Record<string, string[]>, opts: { format?: 'json' | 'html'; down?: string[] } = {}): PageSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async page(variantIndexUrl: string, project: string): Promise<IndexPage | null> {
      const variant = variantIndexUrl.split('/').pop()!;
      const url = `${variantIndexUrl}/${project}/`;
      reads.push(url);
      if (opts.down?.includes(variant)) throw new IndexUnavailable(url, 'connect ECONNREFUSED 127.0.0.1:9 (ECONNREFUSED)');
      const files = pages[`${variant}/${project}`];
      if (!files) return null;
      const format = opts.format ?? 'json';
      return { url, format, files: format === 'json' ? parseJsonPage(jsonPage(files), url) : parseHtmlPage(htmlPage(variant, files), url) };
    },
  };
}

const cps = (list: string[]) =>
  list.map((p) => (p.endsWith('t') ? `cp${p.slice(0, -1).replace('.', '')}-cp${p.replace('.', '')}` : `cp${p.replace('.', '')}-cp${p.replace('.', '')}`));
const wheels = (project: string, version: string, platform: string, pythons = ['3.10', '3.11', '3.12']) =>
  cps(pythons).map((t) => `${project}-${version}-${t}-${platform}.whl`);
const X86 = 'manylinux_2_28_x86_64';
const ARM = 'manylinux_2_28_aarch64';

/** What the real index holds for the releases of the four table errors (per torch-releases.json). */
const REAL: Record<string, string[]> = {
  'cpu/torch': [
    ...wheels('torch', '2.8.0+cpu', X86),
    ...wheels('torch', '2.8.0+cpu', ARM),
    ...wheels('torch', '2.9.1+cpu', ARM),
    ...wheels('torch', '2.4.1', 'manylinux_2_17_aarch64.manylinux2014_aarch64'),
  ],
  'cpu/torchaudio': [
    ...wheels('torchaudio', '2.8.0', ARM),
    ...wheels('torchaudio', '2.9.1', ARM),
    ...wheels('torchaudio', '2.4.1', 'manylinux_2_17_aarch64.manylinux2014_aarch64'),
  ],
  'cu128/torch': [
    ...wheels('torch', '2.8.0+cu128', X86),
    ...wheels('torch', '2.7.1+cu128', ARM),
    ...wheels('torch', '2.9.0+cu128', ARM),
    ...wheels('torch', '2.9.1+cu128', ARM),
  ],
  'cu128/torchaudio': [...wheels('torchaudio', '2.8.0+cu128', X86)],
  'cu129/torch': [
    ...wheels('torch', '2.8.0+cu129', X86),
    ...wheels('torch', '2.8.0+cu129', ARM),
    ...wheels('torch', '2.9.0+cu129', X86),
    ...wheels('torch', '2.9.0+cu129', ARM),
    ...wheels('torch', '2.9.1+cu129', X86),
  ],
  'cu129/torchaudio': [
    ...wheels('torchaudio', '2.8.0+cu129', X86),
    ...wheels('torchaudio', '2.8.0', ARM),
    ...wheels('torchaudio', '2.9.0+cu129', X86),
    ...wheels('torchaudio', '2.9.0', ARM),
    ...wheels('torchaudio', '2.9.1+cu129', X86),
  ],
  'cu124/torch': [
    ...wheels('torch', '2.4.1+cu124', 'linux_x86_64'),
    ...wheels('torch', '2.4.1', 'linux_aarch64'),
    ...wheels('torch', '2.5.1', 'linux_aarch64'),
  ],
  'cu124/torchaudio': [...wheels('torchaudio', '2.4.1+cu124', 'linux_x86_64'), ...wheels('torchaudio', '2.5.1', 'linux_aarch64')],
};

function request(over: Partial<IndexRequest> & { torch: string; variants: Record<string, string> }): IndexRequest {
  const { variants, ...rest } = over;
  return {
    base: 'http://index.test/whl',
    torchaudio: over.torch,
    torchvision: '',
    python: '',
    platforms: Object.entries(variants).map(([platform, variant]) => ({ platform, arch: platform === 'linux/amd64' ? 'amd64' : 'arm64', variant })),
    ...rest,
  };
}

describe('resolveFromIndex: expectations from the wheel names', () => {
  test.each([
    {
      name: '2.9.0 cu129 on both platforms (the install page does not list cu129; the index has it)',
      req: request({ torch: '2.9.0', variants: { 'linux/amd64': 'cu129', 'linux/arm64': 'cu129' } }),
      want: [
        { platform: 'linux/amd64', expect: { torch: '2.9.0+cu129', torchaudio: '2.9.0+cu129', cuda: '12.9' } },
        { platform: 'linux/arm64', expect: { torch: '2.9.0+cu129', torchaudio: '2.9.0', cuda: '12.9' } },
      ],
    },
    {
      name: '2.8.0 cu129 on arm64, cpu on amd64',
      req: request({ torch: '2.8.0', variants: { 'linux/amd64': 'cpu', 'linux/arm64': 'cu129' } }),
      want: [
        { platform: 'linux/amd64', expect: { torch: '2.8.0+cpu', torchaudio: '2.8.0+cpu', cuda: null } },
        { platform: 'linux/arm64', expect: { torch: '2.8.0+cu129', torchaudio: '2.8.0', cuda: '12.9' } },
      ],
      pages: { ...REAL, 'cpu/torchaudio': [...REAL['cpu/torchaudio'], ...wheels('torchaudio', '2.8.0+cpu', X86)] },
    },
    {
      name: '2.4.1 cpu on arm64: untagged torch and torchaudio',
      req: request({ torch: '2.4.1', variants: { 'linux/arm64': 'cpu' } }),
      want: [{ platform: 'linux/arm64', expect: { torch: '2.4.1', torchaudio: '2.4.1', cuda: null } }],
    },
  ])('$name', async ({ req, want, pages }) => {
    const got = await resolveFromIndex(req, constructedIndex(pages ?? REAL));
    expect(got.platforms).toMatchObject(want);
    expect(got.formats).toEqual(['json']);
  });

  test('the same answer from PEP 503 HTML pages', async () => {
    const got = await resolveFromIndex(request({ torch: '2.9.0', variants: { 'linux/arm64': 'cu129' } }), constructedIndex(REAL, { format: 'html' }));
    expect(got.platforms[0].expect).toEqual({ torch: '2.9.0+cu129', torchaudio: '2.9.0', cuda: '12.9' });
    expect(got.formats).toEqual(['html']);
  });

  test('without python-version: the CPython versions every project shares', async () => {
    const pages = { ...REAL, 'cu129/torchaudio': [...wheels('torchaudio', '2.9.0+cu129', X86, ['3.11', '3.12', '3.13'])] };
    const got = await resolveFromIndex(request({ torch: '2.9.0', variants: { 'linux/amd64': 'cu129' } }), constructedIndex(pages));
    expect(got.platforms[0].pythons).toEqual(['3.11', '3.12']);
    expect(got.platforms[0].torch.files).toEqual(wheels('torch', '2.9.0+cu129', X86));
  });

  test('with python-version: only its wheels', async () => {
    const got = await resolveFromIndex(request({ torch: '2.9.0', python: '3.11', variants: { 'linux/amd64': 'cu129' } }), constructedIndex(REAL));
    expect(got.platforms[0].torch.files).toEqual(['torch-2.9.0+cu129-cp311-cp311-manylinux_2_28_x86_64.whl']);
    expect(got.platforms[0].pythons).toEqual(['3.11']);
  });

  test('torchvision is read when asked', async () => {
    const pages = { ...REAL, 'cu129/torchvision': wheels('torchvision', '0.24.0+cu129', X86) };
    const got = await resolveFromIndex(request({ torch: '2.9.0', torchvision: '0.24.0', variants: { 'linux/amd64': 'cu129' } }), constructedIndex(pages));
    expect(got.platforms[0].torchvision?.version).toBe('0.24.0+cu129');
  });

  test("each page is asked through the source; an unavailable index is the caller's to handle", async () => {
    await expect(
      resolveFromIndex(request({ torch: '2.9.0', variants: { 'linux/amd64': 'cu129' } }), constructedIndex(REAL, { down: ['cu129'] })),
    ).rejects.toThrow(IndexUnavailable);
  });
});

describe('resolveFromIndex: refusals name the input and what exists instead', () => {
  test.each([
    {
      name: '2.8.0 on arm64 with cu128 (its aarch64 CUDA wheels are cu129 only)',
      req: request({ torch: '2.8.0', variants: { 'linux/amd64': 'cu128', 'linux/arm64': 'cu128' } }),
      input: 'torch-variants',
      says: [
        'linux/arm64=cu128: the cu128 index has no torch 2.8.0 wheel for linux/arm64 (aarch64)',
        'torch 2.8.0 has aarch64 wheels on: cpu, cu129',
        'nearest torch releases with cu128 aarch64 wheels: 2.7.1, 2.9.0, 2.9.1',
      ],
    },
    {
      name: '2.9.1 on arm64 with cu129 (2.9.1 has cu129 for x86_64 only)',
      req: request({ torch: '2.9.1', variants: { 'linux/amd64': 'cu129', 'linux/arm64': 'cu129' } }),
      input: 'torch-variants',
      says: [
        'linux/arm64=cu129: the cu129 index has no torch 2.9.1 wheel for linux/arm64 (aarch64)',
        'torch 2.9.1 has aarch64 wheels on: cpu, cu128',
        'nearest torch releases with cu129 aarch64 wheels: 2.9.0',
      ],
    },
    {
      name: '2.4.1 on arm64 with cu124 (torch only: no torchaudio aarch64 CUDA wheel before 2.5)',
      req: request({ torch: '2.4.1', variants: { 'linux/arm64': 'cu124' } }),
      input: 'torch-variants',
      says: [
        'the cu124 index has torch 2.4.1 for linux/arm64 (aarch64) but no torchaudio 2.4.1 wheel for it',
        'torchaudio 2.4.1 has aarch64 wheels on: cpu',
        'nearest torchaudio releases with cu124 aarch64 wheels: 2.5.1',
      ],
    },
    {
      name: 'a release no variant has: the version input, with the nearest releases',
      req: request({ torch: '2.8.5', variants: { 'linux/amd64': 'cu129' } }),
      input: 'torch-version',
      says: ['no variant of the index has a torch 2.8.5 wheel for linux/amd64 (x86_64)', 'nearest torch releases with cu129 x86_64 wheels: 2.8.0'],
    },
    {
      name: 'a torchaudio release that does not exist',
      req: request({ torch: '2.9.0', torchaudio: '2.9.7', variants: { 'linux/amd64': 'cu129' } }),
      input: 'torchaudio-version',
      says: [
        'the cu129 index has torch 2.9.0 for linux/amd64 (x86_64) but no variant of the index has a torchaudio 2.9.7 wheel for it',
        'nearest torchaudio releases with cu129 x86_64 wheels: 2.9.0, 2.9.1',
      ],
    },
    {
      name: 'a Python the release has no wheel for',
      req: request({ torch: '2.9.0', python: '3.9', variants: { 'linux/amd64': 'cu129' } }),
      input: 'python-version',
      says: ['the cu129 index has torch 2.9.0+cu129 for linux/amd64 (x86_64) but not for Python 3.9', 'it has Python 3.10, 3.11, 3.12'],
    },
    {
      name: 'an index URL that is no index at all',
      req: { ...request({ torch: '2.9.0', variants: { 'linux/amd64': 'cu129' } }), base: 'http://index.test/not-here' },
      pages: {},
      input: 'torch-index-url',
      says: ['http://index.test/not-here has no torch page for any variant', 'BASE/<variant>/<project>/'],
    },
  ])('$name', async ({ req, input, says, pages }) => {
    const run = resolveFromIndex(req, constructedIndex(pages ?? REAL));
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe(input);
    for (const s of says) expect((e as Error).message).toContain(s);
  });

  test('a refusal looks through every variant the table names, each page once', async () => {
    const source = constructedIndex(REAL);
    await resolveFromIndex(request({ torch: '2.8.0', variants: { 'linux/arm64': 'cu128' } }), source).catch(() => undefined);
    const looked = source.reads.filter((u) => u.endsWith('/torch/')).map((u) => u.split('/').slice(-3)[0]);
    expect(looked.sort()).toEqual(knownVariants().sort());
  });

  test('knownVariants: cpu first, then CUDA by number', () => {
    expect(knownVariants()).toEqual(['cpu', 'cu117', 'cu118', 'cu121', 'cu124', 'cu126', 'cu128', 'cu129', 'cu130']);
  });
});
