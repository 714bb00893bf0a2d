import { checkEmulation } from '../../src/builder/emulation';
import { PhaseError } from '../../src/errors';
import { platformPlan } from './fixtures';

const ENABLED = 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: OCF\noffset 0\n';

describe('checkEmulation', () => {
  test.each([
    {
      name: 'arm64 on an amd64 host with qemu-aarch64 enabled',
      platform: 'linux/arm64' as const,
      host: 'linux/amd64',
      files: { '/proc/sys/fs/binfmt_misc/qemu-aarch64': ENABLED },
      want: 'emulated',
      reads: true,
    },
    {
      name: 'amd64 on an arm64 host with qemu-x86_64 enabled',
      platform: 'linux/amd64' as const,
      host: 'linux/arm64',
      files: { '/proc/sys/fs/binfmt_misc/qemu-x86_64': 'enabled\n' },
      want: 'emulated',
      reads: true,
    },
    { name: 'amd64 on an amd64 host is native', platform: 'linux/amd64' as const, host: 'linux/amd64', files: {}, want: 'native', reads: false },
    {
      name: 'arm64 on an arm64 host is native even without binfmt',
      platform: 'linux/arm64' as const,
      host: 'linux/arm64',
      files: {},
      want: 'native',
      reads: false,
    },
  ])('$name', ({ platform, host, files, want, reads }) => {
    const read = jest.fn((path: string) => (files as Record<string, string>)[path]);
    expect(checkEmulation(platformPlan(platform), host, read)).toBe(want);
    expect(read.mock.calls.length > 0).toBe(reads);
  });

  test('reads the binfmt_misc entry of the platform', () => {
    const read = jest.fn((_path: string): string | undefined => ENABLED);
    checkEmulation(platformPlan('linux/arm64'), 'linux/amd64', read);
    expect(read).toHaveBeenCalledWith('/proc/sys/fs/binfmt_misc/qemu-aarch64');
  });

  test.each([
    { name: 'entry missing', host: 'linux/amd64', text: undefined, state: 'missing', hostShown: 'linux/amd64' },
    { name: 'entry disabled', host: 'linux/amd64', text: 'disabled\ninterpreter /usr/bin/qemu-aarch64-static\n', state: 'disabled', hostShown: 'linux/amd64' },
    { name: 'entry empty', host: 'linux/amd64', text: '', state: 'disabled', hostShown: 'linux/amd64' },
    { name: 'unknown host and entry missing', host: undefined, text: undefined, state: 'missing', hostShown: 'unknown' },
  ])('throws when $name', ({ host, text, state, hostShown }) => {
    const check = () => checkEmulation(platformPlan('linux/arm64'), host, () => text);
    expect(check).toThrow(PhaseError);
    let message = '';
    try {
      check();
    } catch (e) {
      message = (e as Error).message;
      expect((e as PhaseError).phase).toBe('build');
    }
    expect(message).toContain('linux/arm64');
    expect(message).toMatch(/qemu/i);
    expect(message).toContain('binfmt');
    expect(message).toContain('/proc/sys/fs/binfmt_misc/qemu-aarch64');
    expect(message).toContain(`is ${state}`);
    expect(message).toContain(`this ${hostShown} runner`);
    expect(message).toContain('docker/setup-qemu-action');
  });
});
