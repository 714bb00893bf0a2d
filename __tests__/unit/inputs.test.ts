import { InputError } from '../../src/errors';
import { listOf, parseBuildArgs, parseBuildTime, parseExpect, parseVariants, readImages, readInputs } from '../../src/inputs';
import { inputSource } from './fixtures';

const IMAGE = { image: 'ghcr.io/org/worker' };

describe('readInputs defaults', () => {
  const got = readInputs(inputSource(IMAGE));

  test.each([
    { name: 'platforms are linux/amd64 then linux/arm64', pick: () => got.platforms.map((p) => p.platform), want: ['linux/amd64', 'linux/arm64'] },
    { name: 'torch-version is 2.2.2', pick: () => got.torchVersion, want: '2.2.2' },
    { name: 'torchaudio-version is derived from torch (2.2.2)', pick: () => got.torchaudioVersion, want: '2.2.2' },
    { name: 'torch-variants are cu121 on amd64 and cpu on arm64', pick: () => got.torchVariants, want: { 'linux/amd64': 'cu121', 'linux/arm64': 'cpu' } },
    { name: 'torch-index-url is the PyTorch wheel index', pick: () => got.torchIndexUrl, want: 'https://download.pytorch.org/whl' },
    { name: 'startup-timeout is 120', pick: () => got.startupTimeout, want: 120 },
    { name: 'ping-port is 8477', pick: () => got.pingPort, want: 8477 },
    { name: 'ping-path is /v1/ping', pick: () => got.pingPath, want: '/v1/ping' },
    { name: "push is 'auto' (push except on pull requests)", pick: () => got.push, want: 'auto' },
    { name: 'gpu is false', pick: () => got.gpu, want: false },
    { name: 'token-env is WORKER_TOKEN', pick: () => got.tokenEnv, want: 'WORKER_TOKEN' },
    { name: 'context is .', pick: () => got.context, want: '.' },
    { name: 'file is the Dockerfile in the context', pick: () => got.file, want: './Dockerfile' },
    { name: 'tags are empty (derived later)', pick: () => got.tags, want: [] },
    { name: 'expect is empty', pick: () => got.expect, want: {} },
    { name: 'build-args are empty', pick: () => got.buildArgs, want: [] },
    { name: 'worker-token is empty (generated per run)', pick: () => got.workerToken, want: '' },
    { name: 'python is python3', pick: () => got.python, want: 'python3' },
  ])('$name', ({ pick, want }) => {
    expect(pick()).toEqual(want);
  });
});

describe('readInputs accepted values', () => {
  test.each([
    {
      name: 'torchaudio for torch 2.0.1 is 2.0.2',
      rec: { 'torch-version': '2.0.1' },
      pick: (i: ReturnType<typeof readInputs>) => i.torchaudioVersion,
      want: '2.0.2',
    },
    {
      name: 'explicit torchaudio-version wins over the derived one',
      rec: { 'torch-version': '2.0.1', 'torchaudio-version': '2.0.1' },
      pick: (i: ReturnType<typeof readInputs>) => i.torchaudioVersion,
      want: '2.0.1',
    },
    {
      name: 'platform aliases normalise to OCI names',
      rec: { platforms: 'linux/x86_64\nlinux/arm64/v8' },
      pick: (i: ReturnType<typeof readInputs>) => i.platforms.map((p) => p.platform),
      want: ['linux/amd64', 'linux/arm64'],
    },
    {
      name: 'a single platform needs only its own variant',
      rec: { platforms: 'linux/arm64', 'torch-variants': 'linux/arm64=cpu' },
      pick: (i: ReturnType<typeof readInputs>) => i.platforms.map((p) => p.platform),
      want: ['linux/arm64'],
    },
    { name: 'push false is read as false', rec: { push: 'false' }, pick: (i: ReturnType<typeof readInputs>) => i.push, want: false },
    { name: 'push is case-insensitive', rec: { push: 'FALSE' }, pick: (i: ReturnType<typeof readInputs>) => i.push, want: false },
    { name: 'startup-timeout is a number', rec: { 'startup-timeout': '300' }, pick: (i: ReturnType<typeof readInputs>) => i.startupTimeout, want: 300 },
    {
      name: 'file defaults into a non-default context without a doubled slash',
      rec: { context: 'docker/worker/' },
      pick: (i: ReturnType<typeof readInputs>) => i.file,
      want: 'docker/worker/Dockerfile',
    },
    {
      name: 'tags are a comma or newline list',
      rec: { tags: 'v1, stable\nnightly' },
      pick: (i: ReturnType<typeof readInputs>) => i.tags,
      want: ['v1', 'stable', 'nightly'],
    },
  ])('$name', ({ rec, pick, want }) => {
    expect(pick(readInputs(inputSource({ ...IMAGE, ...rec })))).toEqual(want);
  });
});

describe('readInputs errors name the input and the offending value', () => {
  test.each([
    { name: 'unknown platform', rec: { platforms: 'linux/amd64,linux/s390x' }, input: 'platforms', value: 'linux/s390x' },
    { name: 'duplicated platform', rec: { platforms: 'linux/amd64,linux/amd64' }, input: 'platforms', value: 'linux/amd64' },
    { name: 'platform duplicated through an alias', rec: { platforms: 'linux/arm64,linux/arm64/v8' }, input: 'platforms', value: 'linux/arm64' },
    { name: 'torch-variants with : instead of =', rec: { 'torch-variants': 'linux/amd64:cu121' }, input: 'torch-variants', value: 'linux/amd64:cu121' },
    { name: 'torch-variants with an unknown variant', rec: { 'torch-variants': 'linux/amd64=cuda12' }, input: 'torch-variants', value: 'cuda12' },
    { name: 'variant missing for a requested platform', rec: { 'torch-variants': 'linux/amd64=cu121' }, input: 'torch-variants', value: 'linux/arm64' },
    { name: 'startup-timeout as a word', rec: { 'startup-timeout': 'ten' }, input: 'startup-timeout', value: 'ten' },
    { name: 'negative startup-timeout', rec: { 'startup-timeout': '-5' }, input: 'startup-timeout', value: '-5' },
    { name: 'fractional startup-timeout', rec: { 'startup-timeout': '1.5' }, input: 'startup-timeout', value: '1.5' },
    { name: 'zero startup-timeout', rec: { 'startup-timeout': '0' }, input: 'startup-timeout', value: '0' },
    { name: 'ping-port out of range', rec: { 'ping-port': '70000' }, input: 'ping-port', value: '70000' },
    { name: 'push that is not a boolean', rec: { push: 'maybe' }, input: 'push', value: 'maybe' },
    { name: 'gpu that is not a boolean', rec: { gpu: 'cuda' }, input: 'gpu', value: 'cuda' },
    { name: 'token-env with a dash', rec: { 'token-env': 'MY-TOKEN' }, input: 'token-env', value: 'MY-TOKEN' },
    { name: 'token-env starting with a digit', rec: { 'token-env': '1TOKEN' }, input: 'token-env', value: '1TOKEN' },
    { name: 'ping-path without a leading slash', rec: { 'ping-path': 'v1/ping' }, input: 'ping-path', value: 'v1/ping' },
    { name: 'range torch-version', rec: { 'torch-version': '>=2.2' }, input: 'torch-version', value: '>=2.2' },
    { name: 'torch-version with a local suffix', rec: { 'torch-version': '2.2.2+cu121' }, input: 'torch-version', value: '2.2.2+cu121' },
    { name: 'bad torchaudio-version', rec: { 'torchaudio-version': '2.2.x' }, input: 'torchaudio-version', value: '2.2.x' },
    { name: 'torch-index-url that is not http(s)', rec: { 'torch-index-url': 'ftp://mirror/whl' }, input: 'torch-index-url', value: 'ftp://mirror/whl' },
  ])('$name', ({ rec, input, value }) => {
    const read = () => readInputs(inputSource({ ...IMAGE, ...rec }));
    expect(read).toThrow(InputError);
    expect(read).toThrow(`Input '${input}'`);
    expect(read).toThrow(value);
  });

  test.each([
    { name: 'image missing', rec: {} },
    { name: 'image only whitespace', rec: { image: '   ' } },
  ])('$name names the image input', ({ rec }) => {
    const read = () => readInputs(inputSource(rec));
    expect(read).toThrow(InputError);
    expect(read).toThrow("Input 'image'");
    expect(read).toThrow('is required');
  });

  test('the thrown InputError carries the input name as a field', () => {
    let caught: unknown;
    try {
      readInputs(inputSource({ ...IMAGE, 'startup-timeout': 'ten' }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).input).toBe('startup-timeout');
  });
});

describe('build-time', () => {
  test.each([
    { name: 'empty: the clock decides', raw: '', want: undefined },
    { name: "a plan job's created time", raw: '2026-01-01T23:59:58Z', want: new Date('2026-01-01T23:59:58Z') },
    { name: 'surrounding whitespace', raw: ' 2026-01-02T00:00:00Z\n', want: new Date('2026-01-02T00:00:00Z') },
  ])('$name', ({ raw, want }) => {
    expect(parseBuildTime(raw)).toEqual(want);
  });

  test.each([
    { name: 'a date without a time', raw: '2026-01-02' },
    { name: 'a local time (no Z)', raw: '2026-01-02T03:04:05' },
    { name: 'an offset instead of Z', raw: '2026-01-02T03:04:05+02:00' },
    { name: 'milliseconds', raw: '2026-01-02T03:04:05.678Z' },
    { name: 'a day that does not exist', raw: '2026-02-30T00:00:00Z' },
    { name: 'an hour that does not exist', raw: '2026-01-02T24:00:00Z' },
    { name: 'epoch seconds', raw: '1767323045' },
  ])('refuses $name, naming build-time', ({ raw }) => {
    expect(() => parseBuildTime(raw)).toThrow(InputError);
    expect(() => parseBuildTime(raw)).toThrow(/Input 'build-time'.*YYYY-MM-DDTHH:MM:SSZ/);
  });

  test('readInputs reads it', () => {
    expect(readInputs(inputSource({ ...IMAGE, 'build-time': '2026-01-01T23:59:58Z' })).buildTime).toEqual(new Date('2026-01-01T23:59:58Z'));
  });
});

describe('parseExpect', () => {
  test.each([
    {
      name: 'one platform with all keys and cuda none',
      raw: 'linux/arm64: torch=1.13.0a0 torchaudio=0.13.1 cuda=none',
      want: { 'linux/arm64': { torch: '1.13.0a0', torchaudio: '0.13.1', cuda: null } },
    },
    { name: 'only the keys given are set', raw: 'linux/amd64: torch=2.2.2+cu121', want: { 'linux/amd64': { torch: '2.2.2+cu121' } } },
    { name: 'a cuda version stays a string', raw: 'linux/amd64: cuda=12.1', want: { 'linux/amd64': { cuda: '12.1' } } },
    {
      name: 'two platforms on two lines',
      raw: 'linux/amd64: cuda=12.1\nlinux/arm64: cuda=none',
      want: { 'linux/amd64': { cuda: '12.1' }, 'linux/arm64': { cuda: null } },
    },
    {
      name: 'two platforms separated by ;',
      raw: 'linux/amd64: torch=2.2.2; linux/arm64: torch=2.2.1',
      want: { 'linux/amd64': { torch: '2.2.2' }, 'linux/arm64': { torch: '2.2.1' } },
    },
    {
      name: 'lines for the same platform merge',
      raw: 'linux/arm64: torch=2.2.2\nlinux/arm64: cuda=none',
      want: { 'linux/arm64': { torch: '2.2.2', cuda: null } },
    },
    { name: 'an alias is normalised', raw: 'linux/arm64/v8: torch=2.2.2', want: { 'linux/arm64': { torch: '2.2.2' } } },
    { name: 'empty input is no overrides', raw: '', want: {} },
  ])('$name', ({ raw, want }) => {
    expect(parseExpect(raw)).toEqual(want);
  });

  test.each([
    { name: 'unknown key', raw: 'linux/arm64: python=3.11', value: 'python=3.11' },
    { name: 'missing platform separator', raw: 'linux/arm64 torch=2.2.2', value: 'linux/arm64 torch=2.2.2' },
    { name: 'key without value', raw: 'linux/arm64: torch=', value: 'torch=' },
    { name: 'unknown platform', raw: 'linux/s390x: torch=2.2.2', value: 'linux/s390x' },
  ])('refuses $name', ({ raw, value }) => {
    const parse = () => parseExpect(raw);
    expect(parse).toThrow(InputError);
    expect(parse).toThrow("Input 'expect'");
    expect(parse).toThrow(value);
  });
});

describe('parseBuildArgs', () => {
  test.each([
    { name: 'a shared arg', raw: 'PIP_NO_CACHE=1', want: [{ platform: undefined, name: 'PIP_NO_CACHE', value: '1' }] },
    { name: 'a per-platform arg', raw: 'linux/arm64:BASE_IMAGE=x', want: [{ platform: 'linux/arm64', name: 'BASE_IMAGE', value: 'x' }] },
    {
      name: 'a per-platform arg with spaces around the colon',
      raw: 'linux/amd64 : BASE_IMAGE=nvidia/cuda:12.1.1-runtime',
      want: [{ platform: 'linux/amd64', name: 'BASE_IMAGE', value: 'nvidia/cuda:12.1.1-runtime' }],
    },
    { name: 'a per-platform arg through an alias', raw: 'linux/arm64/v8:X=1', want: [{ platform: 'linux/arm64', name: 'X', value: '1' }] },
    { name: 'a per-platform arg through the x86_64 alias', raw: 'linux/x86_64:X=1', want: [{ platform: 'linux/amd64', name: 'X', value: '1' }] },
    { name: 'a per-platform arg in upper case', raw: 'Linux/ARM64:X=1', want: [{ platform: 'linux/arm64', name: 'X', value: '1' }] },
    {
      name: 'a value with = and ,',
      raw: 'PIP_ARGS=--extra-index-url=https://a.example/simple,https://b.example/simple',
      want: [{ platform: undefined, name: 'PIP_ARGS', value: '--extra-index-url=https://a.example/simple,https://b.example/simple' }],
    },
    {
      name: 'a value with a colon and slash stays shared',
      raw: 'BASE_IMAGE=python:3.11-slim',
      want: [{ platform: undefined, name: 'BASE_IMAGE', value: 'python:3.11-slim' }],
    },
    { name: 'an empty value', raw: 'EMPTY=', want: [{ platform: undefined, name: 'EMPTY', value: '' }] },
    {
      name: 'several lines, blank ones ignored, order kept',
      raw: 'A=1\n\n  linux/arm64:B=2  \nC=3',
      want: [
        { platform: undefined, name: 'A', value: '1' },
        { platform: 'linux/arm64', name: 'B', value: '2' },
        { platform: undefined, name: 'C', value: '3' },
      ],
    },
  ])('$name', ({ raw, want }) => {
    expect(parseBuildArgs(raw)).toEqual(want);
  });

  test.each([
    { name: 'a line without =', raw: 'JUST_A_NAME', value: 'JUST_A_NAME' },
    { name: 'a name starting with a digit', raw: '1ABC=x', value: '1ABC=x' },
    { name: 'an unknown platform', raw: 'linux/s390x:X=1', value: 'linux/s390x' },
  ])('refuses $name', ({ raw, value }) => {
    const parse = () => parseBuildArgs(raw);
    expect(parse).toThrow(InputError);
    expect(parse).toThrow("Input 'build-args'");
    expect(parse).toThrow(value);
  });
});

describe('parseVariants', () => {
  test.each([
    { name: 'two platforms by comma', raw: 'linux/amd64=cu121,linux/arm64=cpu', want: { 'linux/amd64': 'cu121', 'linux/arm64': 'cpu' } },
    { name: 'newlines and spaces around =', raw: 'linux/amd64 = cu118\nlinux/arm64 = cpu', want: { 'linux/amd64': 'cu118', 'linux/arm64': 'cpu' } },
    { name: 'an alias is normalised', raw: 'linux/x86_64=cpu', want: { 'linux/amd64': 'cpu' } },
    { name: 'empty is none', raw: '', want: {} },
  ])('$name', ({ raw, want }) => {
    expect(parseVariants(raw)).toEqual(want);
  });

  test.each([
    { name: 'a colon separator', raw: 'linux/amd64:cu121', value: 'linux/amd64:cu121' },
    { name: 'an unknown variant', raw: 'linux/amd64=cuda12', value: 'cuda12' },
    { name: 'a variant with too few digits', raw: 'linux/amd64=cu12', value: 'cu12' },
    { name: 'a platform given twice', raw: 'linux/amd64=cpu,linux/amd64=cu121', value: 'linux/amd64 is given twice' },
    { name: 'an unknown platform', raw: 'linux/s390x=cpu', value: 'linux/s390x' },
  ])('refuses $name', ({ raw, value }) => {
    const parse = () => parseVariants(raw);
    expect(parse).toThrow(InputError);
    expect(parse).toThrow("Input 'torch-variants'");
    expect(parse).toThrow(value);
  });
});

describe('listOf', () => {
  test.each([
    { name: 'commas', raw: 'a,b,c', want: ['a', 'b', 'c'] },
    { name: 'newlines', raw: 'a\nb', want: ['a', 'b'] },
    { name: 'mixed, trimmed, empties dropped', raw: ' a , ,\n b \n\n,c ', want: ['a', 'b', 'c'] },
    { name: 'empty string', raw: '', want: [] },
    { name: 'only separators', raw: ' ,\n, ', want: [] },
  ])('$name', ({ raw, want }) => {
    expect(listOf(raw)).toEqual(want);
  });
});

describe('python-version', () => {
  const IMG = { image: 'ghcr.io/o/w' };
  test.each([
    { raw: '', want: '' },
    { raw: '3.11', want: '3.11' },
    { raw: ' 3.13t ', want: '3.13t' },
  ])("'$raw' reads as '$want'", ({ raw, want }) => {
    expect(readInputs(inputSource({ ...IMG, 'python-version': raw })).pythonVersion).toBe(want);
  });

  test.each(['3', '3.11.4', 'cp311', 'python3.11', '2.7', '3.x'])("'%s' is refused, naming python-version", (raw) => {
    const read = () => readInputs(inputSource({ ...IMG, 'python-version': raw }));
    expect(read).toThrow("Input 'python-version'");
    expect(read).toThrow(`'${raw}' is not a CPython version such as 3.11`);
  });

  test("'3.1', as YAML reads an unquoted 3.10, is refused with the hint", () => {
    expect(() => readInputs(inputSource({ ...IMG, 'python-version': '3.1' }))).toThrow(
      "Input 'python-version': '3.1' is a Python no torch wheel is built for; if you meant 3.10, quote it ('3.10'): YAML reads 3.10 as the number 3.1",
    );
  });
});

describe('python-version in ml-image.yml', () => {
  const read = (text: string) => () => readImages(inputSource({ config: 'ml-image.yml' }), () => text);
  test('an unquoted 3.10 is caught at its line, with the hint', () => {
    expect(read('images:\n  - image: ghcr.io/acme/worker\n    python-version: 3.10\n')).toThrow(
      "ml-image.yml:3: images[0].python-version: is the number 3.1 to YAML, not the version 3.10: write versions in quotes ('3.10')",
    );
  });
  test("a quoted '3.10' is read as written", () => {
    expect(read("images:\n  - image: ghcr.io/acme/worker\n    python-version: '3.10'\n")()[0].inputs.pythonVersion).toBe('3.10');
  });
});

describe('metadata-action and build-push-action parity inputs', () => {
  const read = (rec: Record<string, string>) => readInputs(inputSource({ ...IMAGE, ...rec }));
  type Got = ReturnType<typeof readInputs>;
  type Row = { name: string; rec: Record<string, string>; pick: (i: Got) => unknown; want: unknown };
  type Refusal = { name: string; rec: Record<string, string>; input: string; says: string[] };

  test.each<Row>([
    {
      name: "tags: metadata-action's lines of this image give their tags",
      rec: { tags: 'ghcr.io/org/worker:1.2.3\nghcr.io/org/worker:1.2\nstable' },
      pick: (i: Got) => i.tags,
      want: ['1.2.3', '1.2', 'stable'],
    },
    {
      name: 'labels: key=value lines, values keep = and commas',
      rec: { labels: 'org.opencontainers.image.title=worker\ncom.acme.args=a=b,c' },
      pick: (i: Got) => i.labels,
      want: { 'org.opencontainers.image.title': 'worker', 'com.acme.args': 'a=b,c' },
    },
    {
      name: 'labels: key= is kept as empty (it removes the label)',
      rec: { labels: 'org.opencontainers.image.description=' },
      pick: (i: Got) => i.labels,
      want: { 'org.opencontainers.image.description': '' },
    },
    { name: 'labels default to none', rec: {}, pick: (i: Got) => i.labels, want: {} },
    { name: 'annotations default to none', rec: {}, pick: (i: Got) => i.annotations, want: [] },
    {
      name: 'annotations: a manifest-only line',
      rec: { annotations: 'org.opencontainers.image.title=worker' },
      pick: (i: Got) => i.annotations,
      want: [{ level: 'manifest', key: 'org.opencontainers.image.title', value: 'worker' }],
    },
    {
      name: 'annotations: a platform of the build',
      rec: { annotations: 'manifest[linux/arm64]:com.acme.board=graviton' },
      pick: (i: Got) => i.annotations,
      want: [{ level: 'manifest', platform: 'linux/arm64', key: 'com.acme.board', value: 'graviton' }],
    },
    { name: 'provenance false', rec: { provenance: 'false' }, pick: (i: Got) => i.provenance, want: false },
    { name: 'provenance empty', rec: {}, pick: (i: Got) => i.provenance, want: false },
    { name: 'sbom FALSE', rec: { sbom: 'FALSE' }, pick: (i: Got) => i.sbom, want: false },
  ])('$name', ({ rec, pick, want }) => {
    expect(pick(read(rec))).toEqual(want);
  });

  test.each<Refusal>([
    {
      name: 'tags: a line of another repository',
      rec: { tags: 'ghcr.io/org/worker:1\ndocker.io/org/worker:1' },
      input: 'tags',
      says: ['docker.io/org/worker:1', 'this action pushes to one image'],
    },
    { name: 'tags: a digest', rec: { tags: `ghcr.io/org/worker@sha256:${'0'.repeat(64)}` }, input: 'tags', says: ['is a digest reference'] },
    {
      name: "labels: the action's own namespace",
      rec: { labels: 'io.ml-image-build.torch.version=9.9.9' },
      input: 'labels',
      says: ['io.ml-image-build.torch.version is in the io.ml-image-build.* namespace', 'verification'],
    },
    { name: 'labels: a line without =', rec: { labels: 'org.opencontainers.image.title' }, input: 'labels', says: ['is not key=value'] },
    {
      name: 'annotations: a platform that is not built',
      rec: { annotations: 'manifest[linux/arm64]:k=v', platforms: 'linux/amd64', 'torch-variants': 'linux/amd64=cpu' },
      input: 'annotations',
      says: ['linux/arm64', 'not built'],
    },
    { name: 'provenance true', rec: { provenance: 'true' }, input: 'provenance', says: ['without attestation manifests', 'actions/attest-build-provenance'] },
    { name: 'provenance mode=max', rec: { provenance: 'mode=max' }, input: 'provenance', says: ["'mode=max'", 'actions/attest-build-provenance'] },
    {
      name: 'provenance generator=...',
      rec: { provenance: 'generator=docker/buildkit-syft-scanner' },
      input: 'provenance',
      says: ['Accepted: false or empty'],
    },
    { name: 'sbom true', rec: { sbom: 'true' }, input: 'sbom', says: ['SBOM attestation', 'actions/attest-sbom'] },
  ])('refused: $name', ({ rec, input, says }) => {
    const r = () => read(rec);
    expect(r).toThrow(InputError);
    expect(r).toThrow(`Input '${input}'`);
    for (const s of says) expect(r).toThrow(s);
  });

  describe('in ml-image.yml', () => {
    const images = (text: string, rec: Record<string, string> = {}) => readImages(inputSource({ config: 'ml-image.yml', ...rec }), () => text);
    const TWO = 'images:\n  - name: gpu\n    image: ghcr.io/acme/worker\n  - name: cpu\n    image: ghcr.io/acme/worker-cpu\n';

    test("each entry's own image decides which IMAGE:TAG lines are its own", () => {
      const text =
        'images:\n  - name: gpu\n    image: ghcr.io/acme/worker\n    tags: [ghcr.io/acme/worker:1.2.3]\n  - name: cpu\n    image: ghcr.io/acme/worker-cpu\n    tags: [ghcr.io/acme/worker-cpu:1.2.3]\n';
      expect(images(text).map((e) => e.inputs.tags)).toEqual([['1.2.3'], ['1.2.3']]);
    });

    test('a tags input line of one image is refused for the other entry, naming the input', () => {
      expect(() => images(TWO, { tags: 'ghcr.io/acme/worker:1' })).toThrow(
        "Input 'tags': 'ghcr.io/acme/worker:1' names the repository ghcr.io/acme/worker, not this run's image ghcr.io/acme/worker-cpu",
      );
    });

    test.each<{ name: string; yaml: string; pick: (i: Got) => unknown; want: unknown }>([
      {
        name: 'labels as a map',
        yaml: '    labels:\n      org.opencontainers.image.title: Worker\n      com.acme.n: 3\n',
        pick: (i: Got) => i.labels,
        want: { 'org.opencontainers.image.title': 'Worker', 'com.acme.n': '3' },
      },
      {
        name: 'labels as a list',
        yaml: '    labels:\n      - com.acme.team=speech, asr\n',
        pick: (i: Got) => i.labels,
        want: { 'com.acme.team': 'speech, asr' },
      },
      {
        name: 'annotations as a list, commas kept',
        yaml: '    annotations:\n      - index,manifest:org.opencontainers.image.description=a, b\n',
        pick: (i: Got) => i.annotations.map((a) => a.level),
        want: ['index', 'manifest'],
      },
      { name: 'provenance: false', yaml: '    provenance: false\n', pick: (i: Got) => i.provenance, want: false },
    ])('$name', ({ yaml, pick, want }) => {
      expect(pick(images(`images:\n  - image: ghcr.io/acme/worker\n${yaml}`)[0].inputs)).toEqual(want);
    });

    test.each([
      { name: 'provenance: true, at its line', yaml: '    provenance: true\n', says: 'ml-image.yml:3: images[0].provenance: ' },
      { name: 'a label key holding =', yaml: "    labels:\n      'a=b': c\n", says: "ml-image.yml:4: images[0].labels.a=b: 'a=b' is not a label key" },
      {
        name: "a label of the action's namespace, at its line",
        yaml: '    labels:\n      io.ml-image-build.platform: x\n',
        says: 'ml-image.yml:3: images[0].labels: io.ml-image-build.platform is in the io.ml-image-build.* namespace',
      },
    ])('refused: $name', ({ yaml, says }) => {
      expect(() => images(`images:\n  - image: ghcr.io/acme/worker\n${yaml}`)).toThrow(says);
    });
  });
});
