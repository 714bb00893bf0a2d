import { spawn, type ChildProcess } from 'child_process';
import * as http from 'http';
import { PassThrough, type Readable } from 'stream';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Stream output to the log (builds, pushes); otherwise it is only captured. */
  stream?: boolean;
  /** Stops the command after this long (it then ends with code 124 and says so in stderr). */
  timeoutMs?: number;
  /** Output as it comes, to a sink of the caller's (a platform building beside another buffers its log). */
  onOutput?: (chunk: string) => void;
  /** Bytes for stdin: passwords go here, never in argv. */
  input?: string;
  /** Extra environment for this call only: the worker token goes here, never in argv. */
  env?: Record<string, string>;
}

/** An image's configured user, environment and health check. */
export interface ImageConfig {
  /** '' when the image sets no USER (it runs as root). */
  user: string;
  env: Record<string, string>;
  healthcheck?: { test: string[]; intervalS: number; timeoutS: number; startPeriodS: number; retries: number };
}

export interface ContainerInfo {
  status: string;
  exitCode: number;
  oomKilled: boolean;
  /** 'starting', 'healthy', 'unhealthy'; undefined without a health check. */
  health?: string;
  lastHealthOutput?: string;
  /** Network name -> the container's address on it. */
  ips: Record<string, string>;
}

/** A running `docker` whose stdout is read as a stream (`docker save`). */
export interface DockerStream {
  stdout: Readable;
  /** Exit code and the end of stderr, once the process is gone. */
  done: Promise<{ code: number; stderr: string }>;
  kill(): void;
}

/** Keeps the last `max` characters: a chatty build must not grow the process without bound. */
function tail(s: string, max = 64 * 1024): string {
  return s.length > max ? s.slice(-max) : s;
}

/**
 * The one place that runs the docker CLI. Every phase talks to the engine through it.
 *
 * It spawns the CLI itself (not through @actions/exec) because a cancelled run must stop its
 * children: every process started here is known until it exits, and `stopAll` ends them.
 */
export class Docker {
  private static readonly running = new Set<ChildProcess>();
  private static readonly requests = new Set<http.ClientRequest>();
  /** The engine's local API socket, null when it is not one (tcp, ssh), undefined until asked. */
  private socketPath?: string | null;

  constructor(readonly bin = 'docker') {}

  /** Ends every docker process and engine request still running (a cancelled run): a build or save is cancelled on the engine's side too. */
  static stopAll(): number {
    const n = Docker.running.size + Docker.requests.size;
    for (const c of Docker.running) c.kill('SIGINT');
    for (const r of Docker.requests) r.destroy(new Error('cancelled'));
    return n;
  }

  private start(args: string[], env?: Record<string, string>): ChildProcess {
    const child = spawn(this.bin, args, { env: env ? { ...process.env, ...env } : process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    Docker.running.add(child);
    child.once('close', () => Docker.running.delete(child));
    return child;
  }

  exec(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = this.start(args, opts.env);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        stdout = tail(stdout + d, 16 * 1024 * 1024);
        if (opts.stream) process.stdout.write(d);
        opts.onOutput?.(d);
      });
      child.stderr!.on('data', (d: string) => {
        stderr = tail(stderr + d);
        if (opts.stream) process.stdout.write(d);
        opts.onOutput?.(d);
      });
      child.on('error', (e) => {
        stderr += `${e.message}\n`;
      });
      let timedOut = false;
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : undefined;
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) resolve({ code: 124, stdout, stderr: `${stderr}docker ${args[0]} stopped after ${Math.round(opts.timeoutMs! / 1000)}s\n` });
        else resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input !== undefined ? Buffer.from(opts.input) : undefined);
    });
  }

  /** Starts a command whose stdout the caller reads as a stream. */
  stream(args: string[]): DockerStream {
    const child = this.start(args);
    child.stdin!.end();
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr = tail(stderr + d, 8192)));
    const done = new Promise<{ code: number; stderr: string }>((resolve) => {
      child.on('error', (e) => (stderr += `${e.message}\n`));
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stderr }));
    });
    return { stdout: child.stdout!, done, kill: () => child.kill('SIGTERM') };
  }

  /** The engine's API socket when the current context (DOCKER_HOST, DOCKER_CONTEXT) is a local unix socket. */
  private async engineSocket(): Promise<string | undefined> {
    if (this.socketPath === undefined) {
      const r = await this.exec(['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}']);
      const host = r.code === 0 ? r.stdout.trim() : '';
      this.socketPath = host.startsWith('unix://') ? host.slice('unix://'.length) : null;
    }
    return this.socketPath ?? undefined;
  }

  /**
   * `docker save REF` as a stream. Read straight from the engine's API when its socket is local:
   * through the CLI every byte of a multi-gigabyte image would be copied once more (about 2 CPU
   * seconds per GB on the runner's cores, which compression needs). Remote engines go through the
   * CLI, which knows their transport.
   */
  async save(ref: string): Promise<DockerStream> {
    const socketPath = await this.engineSocket();
    if (!socketPath) return this.stream(['save', ref]);
    const stdout = new PassThrough({ highWaterMark: 1024 * 1024 });
    let req: http.ClientRequest;
    const done = new Promise<{ code: number; stderr: string }>((resolve) => {
      req = http.request({ socketPath, path: `/images/${encodeURIComponent(ref)}/get`, method: 'GET' }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => {
            stdout.end();
            resolve({ code: 1, stderr: `engine answered ${res.statusCode}: ${body.trim()}` });
          });
          return;
        }
        res.on('error', (e) => stdout.destroy(e));
        res.on('aborted', () => stdout.destroy(new Error('the engine stopped sending the image')));
        res.pipe(stdout);
        res.on('end', () => resolve({ code: 0, stderr: '' }));
      });
      req.on('error', (e) => {
        stdout.destroy(e);
        resolve({ code: 1, stderr: e.message });
      });
      req.on('close', () => Docker.requests.delete(req));
      Docker.requests.add(req);
      req.end();
    });
    return { stdout, done, kill: () => req.destroy(new Error('stopped')) };
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

  /** `docker buildx inspect` of the current builder: its driver (docker, docker-container, remote, kubernetes), '' when unknown. */
  async buildxDriver(): Promise<string> {
    const r = await this.exec(['buildx', 'inspect']);
    return r.code === 0 ? (/^Driver:\s*(\S+)/m.exec(r.stdout)?.[1] ?? '') : '';
  }

  async clientVersion(): Promise<string> {
    return (await this.exec(['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  }

  async serverVersion(): Promise<string> {
    const r = await this.exec(['version', '--format', '{{.Server.Version}}']);
    if (r.code !== 0 || !r.stdout.trim()) {
      throw new Error(
        `no Docker engine answers (${(r.stderr || r.stdout).trim().split('\n')[0] || 'docker version failed'}); start dockerd or set DOCKER_HOST`,
      );
    }
    return r.stdout.trim();
  }

  /** 'containerd' when the engine keeps images in the containerd store (Docker 29's default), else 'classic'. */
  async imageStore(): Promise<'containerd' | 'classic'> {
    const r = await this.exec(['info', '--format', '{{json .DriverStatus}}']);
    return r.code === 0 && r.stdout.includes('io.containerd.snapshotter') ? 'containerd' : 'classic';
  }

  /** ID, layers (diff IDs) and platform of a local image. */
  async inspectImage(ref: string): Promise<{ id: string; diffIds: string[]; os: string; architecture: string; variant?: string; size: number }> {
    // The whole object: older engines leave out fields (Variant) a template would fail on.
    const j = JSON.parse(await this.ok(['image', 'inspect', '--format', '{{json .}}', ref])) as {
      Id: string;
      RootFS?: { Layers?: string[] };
      Os?: string;
      Architecture?: string;
      Variant?: string;
      Size?: number;
    };
    return {
      id: j.Id,
      diffIds: j.RootFS?.Layers ?? [],
      os: j.Os ?? '',
      architecture: j.Architecture ?? '',
      ...(j.Variant ? { variant: j.Variant } : {}),
      size: j.Size ?? 0,
    };
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

  /**
   * Removes every container, then volume and network, carrying the run's label (a volume or
   * network is only removable once no container uses it). Returns what was removed.
   */
  async removeByLabel(label: string): Promise<string[]> {
    const list = async (args: string[]) => (await this.exec([...args, '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
    const containers = await list(['ps', '-aq']);
    if (containers.length > 0) await this.exec(['rm', '-f', '-v', ...containers]);
    const volumes = await list(['volume', 'ls', '-q']);
    if (volumes.length > 0) await this.exec(['volume', 'rm', '-f', ...volumes]);
    const networks = await list(['network', 'ls', '-q']);
    if (networks.length > 0) await this.exec(['network', 'rm', ...networks]);
    return [...containers.map((c) => `container ${c}`), ...volumes.map((v) => `volume ${v}`), ...networks.map((n) => `network ${n}`)];
  }

  /** The parts of an image's config that verification reads. */
  async imageConfig(ref: string): Promise<ImageConfig> {
    const j = JSON.parse(await this.ok(['image', 'inspect', '--format', '{{json .Config}}', ref])) as {
      User?: string;
      Env?: string[] | null;
      Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number } | null;
    };
    const env: Record<string, string> = {};
    for (const e of j.Env ?? []) {
      const i = e.indexOf('=');
      if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
    }
    const h = j.Healthcheck;
    // `HEALTHCHECK NONE` is stored as a test of ["NONE"]: no health check, like none at all.
    const healthcheck =
      h && h.Test && h.Test.length > 0 && h.Test[0] !== 'NONE'
        ? {
            test: h.Test,
            intervalS: (h.Interval ?? 0) / 1e9,
            timeoutS: (h.Timeout ?? 0) / 1e9,
            startPeriodS: (h.StartPeriod ?? 0) / 1e9,
            retries: h.Retries ?? 0,
          }
        : undefined;
    return { user: j.User ?? '', env, healthcheck };
  }

  /** What a running (or ended) container is doing: the parts verification waits on. */
  async inspectContainer(name: string): Promise<ContainerInfo | undefined> {
    const r = await this.exec(['inspect', '--format', '{{json .}}', name]);
    if (r.code !== 0) return undefined;
    const j = JSON.parse(r.stdout) as {
      State: { Status: string; ExitCode: number; OOMKilled?: boolean; Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] } | null };
      NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
    };
    const log = j.State.Health?.Log ?? [];
    return {
      status: j.State.Status,
      exitCode: j.State.ExitCode,
      oomKilled: !!j.State.OOMKilled,
      health: j.State.Health?.Status,
      lastHealthOutput: log.length ? `exit ${log[log.length - 1].ExitCode}: ${log[log.length - 1].Output.trim()}` : undefined,
      ips: Object.fromEntries(Object.entries(j.NetworkSettings?.Networks ?? {}).map(([k, v]) => [k, v.IPAddress ?? ''])),
    };
  }

  /** Removes local tags (untags; an image left without a name is deleted by the engine). Returns those removed. */
  async removeTags(refs: string[]): Promise<string[]> {
    const present: string[] = [];
    for (const ref of refs) if ((await this.exec(['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0) present.push(ref);
    if (present.length > 0) await this.exec(['image', 'rm', ...present]);
    return present;
  }
}
