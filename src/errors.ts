/** An input (or config key) the user can fix; the message always names it and what is accepted. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
  }
}

/** A phase that ran and failed (build, verify, publish); the message says what to look at. */
export class PhaseError extends Error {
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(message);
    this.name = 'PhaseError';
  }
}

/** Characters a message must not carry as they are: controls, and invisible or reordering formatting. */
const INVISIBLE = '[\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]';

/** A value as a message shows it: quoted, invisible characters escaped (\uXXXX), a long one cut. */
export function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}... (${value.length} characters)` : value;
  if (!new RegExp(INVISIBLE).test(cut)) return `'${cut}'`;
  return `"${cut
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(new RegExp(INVISIBLE, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** A YAML or JSON scalar as text for a message (numbers and booleans as written, anything else as JSON). */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? typeof v;
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
