/** Upload progress in the log: a line per active layer at a steady cadence, a line per finished one. */

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

export function formatRate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${formatBytes(Math.round(bytes / seconds))}/s` : '-';
}

export interface TaskSnapshot {
  label: string;
  /** Bytes of the layer read so far, and its size when known. */
  read: number;
  total?: number;
  /** Bytes handed to the registry so far. */
  sent: number;
  seconds: number;
}

export function progressLine(t: TaskSnapshot): string {
  const of = t.total ? ` of ${formatBytes(t.total)} (${Math.floor((100 * t.read) / t.total)}%)` : '';
  return `  ${t.label}: ${formatBytes(t.read)}${of} read, ${formatBytes(t.sent)} sent, ${formatRate(t.sent, t.seconds)}`;
}

export class Task {
  read = 0;
  sent = 0;
  readonly startedAt: number;
  constructor(
    readonly label: string,
    readonly total: number | undefined,
    private readonly now: () => number,
    private readonly onEnd: (t: Task) => void,
  ) {
    this.startedAt = now();
  }

  snapshot(): TaskSnapshot {
    return { label: this.label, read: this.read, total: this.total, sent: this.sent, seconds: (this.now() - this.startedAt) / 1000 };
  }

  get seconds(): number {
    return (this.now() - this.startedAt) / 1000;
  }

  end(): void {
    this.onEnd(this);
  }
}

export class Progress {
  private readonly active = new Set<Task>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: (s: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  start(label: string, total?: number): Task {
    const t = new Task(label, total, this.now, (x) => this.active.delete(x));
    this.active.add(t);
    if (!this.timer && this.intervalMs > 0) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return t;
  }

  tick(): void {
    for (const t of this.active) this.log(progressLine(t.snapshot()));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.active.clear();
  }
}
