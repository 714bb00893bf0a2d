import { checkPingBody, compareProbe, parseProbe } from '../../src/verify/contract';
import { pingBody, probe } from './fixtures';

describe('checkPingBody', () => {
  test.each([
    { name: 'a valid body has no findings', body: pingBody(), gpu: false, want: [] },
    { name: 'a valid GPU body when a GPU is expected has no findings', body: pingBody({ gpu: true }), gpu: true, want: [] },
    { name: "status 'error'", body: pingBody({ status: 'error' }), gpu: false, want: ['ping status'] },
    { name: 'status missing', body: pingBody({ status: undefined }), gpu: false, want: ['ping status'] },
    { name: 'version as a number', body: pingBody({ version: 1 }), gpu: false, want: ['ping version'] },
    { name: "gpu 'yes'", body: pingBody({ gpu: 'yes' }), gpu: false, want: ['ping gpu'] },
    { name: 'gpu true when not expected', body: pingBody({ gpu: true }), gpu: false, want: ['ping gpu'] },
    { name: 'gpu false when expected', body: pingBody({ gpu: false }), gpu: true, want: ['ping gpu'] },
    { name: 'diarization as a string', body: pingBody({ diarization: 'true' }), gpu: false, want: ['ping diarization'] },
    { name: 'activeJobs -1', body: pingBody({ activeJobs: -1 }), gpu: false, want: ['ping activeJobs'] },
    { name: 'activeJobs 1.5', body: pingBody({ activeJobs: 1.5 }), gpu: false, want: ['ping activeJobs'] },
    { name: "activeJobs '0' as a string", body: pingBody({ activeJobs: '0' }), gpu: false, want: ['ping activeJobs'] },
    { name: 'missing maxConcurrentJobs', body: pingBody({ maxConcurrentJobs: undefined }), gpu: false, want: ['ping maxConcurrentJobs'] },
    {
      name: 'several problems at once, in order',
      body: pingBody({ status: 'starting', version: null, activeJobs: -2 }),
      gpu: false,
      want: ['ping status', 'ping version', 'ping activeJobs'],
    },
    { name: 'an array body', body: [pingBody()], gpu: false, want: ['ping body'] },
    { name: 'a string body', body: 'ok', gpu: false, want: ['ping body'] },
    { name: 'a null body', body: null, gpu: false, want: ['ping body'] },
  ])('$name', ({ body, gpu, want }) => {
    expect(checkPingBody(body, gpu).map((f) => f.check)).toEqual(want);
  });

  test.each([
    {
      name: 'missing field shows (missing)',
      body: pingBody({ maxConcurrentJobs: undefined }),
      gpu: false,
      want: { check: 'ping maxConcurrentJobs', expected: 'a non-negative integer', actual: '(missing)' },
    },
    {
      name: 'wrong status shows the JSON value',
      body: pingBody({ status: 'error' }),
      gpu: false,
      want: { check: 'ping status', expected: '"ok"', actual: '"error"' },
    },
    { name: 'unexpected gpu shows both booleans', body: pingBody({ gpu: true }), gpu: false, want: { check: 'ping gpu', expected: 'false', actual: 'true' } },
    { name: 'a string body shows it as JSON', body: 'ok', gpu: false, want: { check: 'ping body', expected: 'a JSON object', actual: '"ok"' } },
  ])('finding detail: $name', ({ body, gpu, want }) => {
    expect(checkPingBody(body, gpu)).toEqual([want]);
  });
});

describe('parseProbe', () => {
  const line = 'MLIB_PROBE {"machine":"aarch64","torch":"2.2.2","torchaudio":"2.2.2","cuda":null}';

  test.each([
    { name: 'the probe line alone', stdout: line },
    {
      name: 'the probe line among warnings before and after',
      stdout: `/usr/lib/python3/dist-packages/torch/__init__.py:1: UserWarning: numpy\n  warn()\n${line}\nbye\n`,
    },
    { name: 'a CRLF line ending', stdout: `noise\r\n${line}\r\n` },
  ])('finds $name', ({ stdout }) => {
    expect(parseProbe(stdout)).toEqual({ machine: 'aarch64', torch: '2.2.2', torchaudio: '2.2.2', cuda: null });
  });

  test('keeps import errors reported by the probe', () => {
    const got = parseProbe('MLIB_PROBE {"machine":"x86_64","torch":"2.2.2+cpu","torchaudio":null,"cuda":null,"torchaudio_error":"ModuleNotFoundError()"}\n');
    expect(got.torchaudio).toBeNull();
    expect(got.torchaudio_error).toBe('ModuleNotFoundError()');
  });

  test.each([
    { name: 'empty output', stdout: '', shown: '(empty)' },
    { name: 'output without the probe line', stdout: 'Traceback (most recent call last):\nImportError: libcudart.so.12\n', shown: 'libcudart.so.12' },
    { name: 'the marker not at the start of a line', stdout: 'echo MLIB_PROBE {}\n', shown: 'echo MLIB_PROBE' },
  ])('throws on $name, showing the output', ({ stdout, shown }) => {
    const parse = () => parseProbe(stdout);
    expect(parse).toThrow('the probe printed no result');
    expect(parse).toThrow(shown);
  });
});

describe('compareProbe', () => {
  const cu121 = { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121', cuda: '12.1' };
  const arm = { torch: '2.2.2', torchaudio: '2.2.2', cuda: null };

  test.each([
    { name: 'a matching amd64 image has no findings', expected: cu121, machine: 'x86_64', probe: probe(), want: [] },
    {
      name: 'a matching arm64 image has no findings',
      expected: arm,
      machine: 'aarch64',
      probe: probe({ torch: '2.2.2', torchaudio: '2.2.2', cuda: null, machine: 'aarch64' }),
      want: [],
    },
    {
      name: 'versions are compared as exact strings: 2.2.2 is not 2.2.2+cu121',
      expected: cu121,
      machine: 'x86_64',
      probe: probe({ torch: '2.2.2' }),
      want: [{ check: 'torch version', expected: '2.2.2+cu121', actual: '2.2.2' }],
    },
    {
      name: 'a torchaudio mismatch',
      expected: cu121,
      machine: 'x86_64',
      probe: probe({ torchaudio: '2.2.1+cu121' }),
      want: [{ check: 'torchaudio version', expected: '2.2.2+cu121', actual: '2.2.1+cu121' }],
    },
    {
      name: 'a missing torchaudio shows none',
      expected: cu121,
      machine: 'x86_64',
      probe: probe({ torchaudio: null }),
      want: [{ check: 'torchaudio version', expected: '2.2.2+cu121', actual: 'none' }],
    },
    {
      name: 'an architecture mismatch',
      expected: cu121,
      machine: 'x86_64',
      probe: probe({ machine: 'aarch64' }),
      want: [{ check: 'architecture', expected: 'x86_64', actual: 'aarch64' }],
    },
    {
      name: 'expected no CUDA but the image has 12.1: none vs 12.1',
      expected: { ...cu121, cuda: null },
      machine: 'x86_64',
      probe: probe(),
      want: [{ check: 'CUDA build', expected: 'none', actual: '12.1' }],
    },
    {
      name: 'expected CUDA 12.1 but the image is a CPU build: 12.1 vs none',
      expected: cu121,
      machine: 'x86_64',
      probe: probe({ cuda: null }),
      want: [{ check: 'CUDA build', expected: '12.1', actual: 'none' }],
    },
    {
      name: 'a CPU wheel in place of a CUDA one gives every finding in order',
      expected: cu121,
      machine: 'x86_64',
      probe: probe({ torch: '2.2.2+cpu', torchaudio: '2.2.2+cpu', cuda: null, machine: 'aarch64' }),
      want: [
        { check: 'architecture', expected: 'x86_64', actual: 'aarch64' },
        { check: 'torch version', expected: '2.2.2+cu121', actual: '2.2.2+cpu' },
        { check: 'torchaudio version', expected: '2.2.2+cu121', actual: '2.2.2+cpu' },
        { check: 'CUDA build', expected: '12.1', actual: 'none' },
      ],
    },
  ])('$name', ({ expected, machine, probe: seen, want }) => {
    expect(compareProbe(expected, machine, seen)).toEqual(want);
  });
});
