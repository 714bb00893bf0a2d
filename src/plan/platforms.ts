import { InputError } from '../errors';

/** What the action knows about each platform it can build: PyTorch publishes wheels for these two. */
export interface PlatformInfo {
  platform: string; // OCI form, e.g. linux/arm64
  arch: string; // OCI architecture, also used as a tag suffix
  machine: string; // what `platform.machine()` reports inside the image
  binfmt: string; // name of the binfmt_misc entry QEMU registers for it
}

export const PLATFORMS: Record<string, PlatformInfo> = {
  'linux/amd64': { platform: 'linux/amd64', arch: 'amd64', machine: 'x86_64', binfmt: 'qemu-x86_64' },
  'linux/arm64': { platform: 'linux/arm64', arch: 'arm64', machine: 'aarch64', binfmt: 'qemu-aarch64' },
};

const ALIASES: Record<string, string> = { 'linux/arm64/v8': 'linux/arm64', 'linux/x86_64': 'linux/amd64' };

export function parsePlatform(raw: string, input = 'platforms'): PlatformInfo {
  const key = raw.trim().toLowerCase();
  const info = PLATFORMS[ALIASES[key] ?? key];
  if (!info) {
    throw new InputError(input, `unknown platform '${raw.trim()}'; accepted: ${Object.keys(PLATFORMS).join(', ')}`);
  }
  return info;
}

/** The platform a runner executes natively, from Node's view of the CPU. */
export function hostPlatform(nodeArch: string = process.arch): string | undefined {
  return { x64: 'linux/amd64', arm64: 'linux/arm64' }[nodeArch];
}
