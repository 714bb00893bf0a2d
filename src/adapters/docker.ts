import * as exec from '@actions/exec';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Stream output to the log (builds, pushes); otherwise it is only captured. */
  stream?: boolean;
  /** Bytes for stdin: passwords go here, never in argv. */
  input?: string;
  /** Extra environment for this call only: the worker token goes here, never in argv. */
  env?: Record<string, string>;
}

/** The one place that runs the docker CLI. Every phase talks to the engine through it. */
export class Docker {
  constructor(readonly bin = 'docker') {}

  async exec(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const env = opts.env ? { ...(process.env as Record<string, string>), ...opts.env } : undefined;
    const r = await exec.getExecOutput(this.bin, args, {
      ignoreReturnCode: true,
      silent: !opts.stream,
      input: opts.input !== undefined ? Buffer.from(opts.input) : undefined,
      env,
    });
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like exec, but a non-zero exit throws with the command's own words. */
  async ok(args: string[], opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(args, opts);
    if (r.code !== 0) {
      throw new Error(`docker ${args[0]} ${args[1] ?? ''} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
    }
    return r.stdout.trim();
  }

  async hasBuildx(): Promise<boolean> {
    return (await this.exec(['buildx', 'version'])).code === 0;
  }

  async clientVersion(): Promise<string> {
    return (await this.exec(['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  }

  async serverVersion(): Promise<string> {
    const r = await this.exec(['version', '--format', '{{.Server.Version}}']);
    if (r.code !== 0 || !r.stdout.trim()) {
      throw new Error(`no Docker engine answers (${(r.stderr || r.stdout).trim().split('\n')[0] || 'docker version failed'}); start dockerd or set DOCKER_HOST`);
    }
    return r.stdout.trim();
  }

  /** "running", "exited", ... or "" when the container is gone. */
  async containerState(name: string): Promise<{ status: string; exitCode: number }> {
    const r = await this.exec(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name]);
    if (r.code !== 0) return { status: '', exitCode: -1 };
    const [status, code] = r.stdout.trim().split(' ');
    return { status, exitCode: Number(code) };
  }

  async logs(name: string, tail = 40): Promise<string> {
    const r = await this.exec(['logs', '--tail', String(tail), name]);
    return (r.stdout + r.stderr).trim();
  }

  async removeContainer(name: string): Promise<void> {
    await this.exec(['rm', '-f', '-v', name]);
  }

  async removeByLabel(label: string): Promise<string[]> {
    const ids = (await this.exec(['ps', '-aq', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await this.exec(['rm', '-f', '-v', ...ids]);
    return ids;
  }
}
