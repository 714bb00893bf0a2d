/**
 * One requirement and its verdict, shared by every file pin lint reads: the package name as PEP 503
 * compares it, the version an exact pin stands for, and whether it agrees with the plan.
 */
import * as pep440 from '@renovatebot/pep440';
import type { Planned } from './findings';

/** Build args the action sets, and the package whose planned version each carries. */
const PLACEHOLDER_PACKAGES: Record<string, string> = {
  TORCH_VERSION: 'torch',
  TORCHAUDIO_VERSION: 'torchaudio',
  TORCHVISION_VERSION: 'torchvision',
};

/** PEP 503: lowercase, runs of - _ . are one separator. */
export function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export interface Lint {
  file: string;
  wanted: Set<string>;
  /** normalized name -> public planned version */
  planned: Map<string, string>;
}

export function makeLint(file: string, packages: string[], planned: Planned): Lint {
  const map = new Map<string, string>();
  for (const [name, version] of Object.entries(planned)) {
    if (version) map.set(normalize(name), publicPart(version.trim()));
  }
  return { file, wanted: new Set(packages.map(normalize)), planned: map };
}

/** The version as written without its local label ("2.2.2+cu121" -> "2.2.2"), for messages. */
function publicPart(version: string): string {
  const i = version.indexOf('+');
  return i < 0 ? version : version.slice(0, i);
}

/**
 * PEP 440 equality of public versions (@renovatebot/pep440): "2.2" is "2.2.0", "0!2.2.2" is
 * "2.2.2", "2.2.2-1" is "2.2.2.post1", a local label (+cu121) does not count. Text that is no
 * PEP 440 version is compared as written, case aside.
 */
export function sameVersion(a: string, b: string): boolean {
  const pa = pep440.explain(a.trim());
  const pb = pep440.explain(b.trim());
  if (!pa || !pb) return publicPart(a.trim()).toLowerCase() === publicPart(b.trim()).toLowerCase();
  return pep440.eq(pa.public, pb.public);
}

const PLACEHOLDER_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const UNKNOWN = '\u0000';

/**
 * The public version an exact pin stands for once the action's build args are substituted, or
 * null when it cannot be known here (a placeholder for another build arg: accepted as an exact pin).
 */
function resolvePin(version: string, lint: Lint): string | null {
  const resolved = version.replace(PLACEHOLDER_RE, (_m, braced: string | undefined, bare: string | undefined) => {
    const pkg = PLACEHOLDER_PACKAGES[(braced ?? bare) as string];
    return (pkg && lint.planned.get(pkg)) || UNKNOWN;
  });
  const pub = publicPart(resolved);
  return pub.includes(UNKNOWN) ? null : pub;
}

export interface Requirement {
  name: string;
  norm: string;
  /** name, extras and specifier as written, without spaces or marker: "torch[opt]>=2.1" */
  display: string;
  spec: string;
  /** A direct reference (name @ URL, a bare URL or path): the version its file name carries, or null. */
  url: string | null;
  urlVersion: string | null;
}

const URL_LIKE_RE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|git\+|hg\+|svn\+|bzr\+|file:|\.{1,2}[\\/]|[\\/]|~)|\.(?:whl|tar\.gz|tar\.bz2|tgz|zip)$/i;

/** Name and version from a wheel or sdist file name, or the #egg= fragment (name only). */
function fromUrl(url: string): { name: string | null; version: string | null } {
  const path = url
    .split('#')[0]
    .split('?')[0]
    .replace(/[\\/]+$/, '');
  let base = path.split(/[\\/]/).pop() ?? '';
  try {
    base = decodeURIComponent(base);
  } catch {
    // keep it as written
  }
  const wheel = /^([^-]+)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/i.exec(base);
  if (wheel) return { name: wheel[1], version: wheel[2] };
  const sdist = /^(.+?)-(\d[^-]*)\.(?:tar\.gz|tar\.bz2|tgz|zip)$/i.exec(base);
  if (sdist) return { name: sdist[1], version: sdist[2] };
  const egg = /#(?:.*&)?egg=([^&\s]+)/.exec(url);
  if (egg) return { name: egg[1].replace(/-\d.*$/, ''), version: null };
  // A VCS URL or a directory: its last segment, e.g. pyannote-audio.git@3.1.1 -> pyannote-audio.
  const dir = base.replace(/@[^/]*$/, '').replace(/\.git$/i, '');
  return { name: /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(dir) ? dir : null, version: null };
}

/** A PEP 508 requirement, or a bare URL/path one pip accepts; null when no package name can be read. */
export function parseRequirement(raw: string): Requirement | null {
  const s = raw.trim();
  if (!s) return null;
  if (URL_LIKE_RE.test(s)) {
    const { name, version } = fromUrl(s);
    if (!name) return null;
    return { name, norm: normalize(name), display: s, spec: '', url: s, urlVersion: version };
  }
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/s.exec(s);
  if (!m) return null;
  const name = m[1];
  const extras = (m[2] ?? '').replace(/\s+/g, '');
  const rest = m[3];
  if (rest.startsWith('@')) {
    const url = rest
      .slice(1)
      .split(/\s;|\s+;/)[0]
      .trim();
    const { version } = fromUrl(url);
    return { name, norm: normalize(name), display: `${name}${extras} @ ${url}`, spec: '', url, urlVersion: version };
  }
  let spec = rest.split(';')[0].trim();
  const paren = /^\((.*)\)$/s.exec(spec);
  if (paren) spec = paren[1].trim();
  const compact = spec.replace(/\s+/g, '');
  return { name, norm: normalize(name), display: `${name}${extras}${compact}`, spec: compact, url: null, urlVersion: null };
}

export type Verdict = { kind: 'exact'; version: string; problem: string | null } | { kind: 'loose'; problem: string };

/** How to fix it: the exact pin the plan wants, written for a requirements line or for Poetry. */
export function suggestion(name: string, lint: Lint, norm: string, poetry = false): string {
  const v = lint.planned.get(norm);
  if (!v) return 'pin it exactly with ==';
  return poetry ? `pin it exactly (${name} = "${v}")` : `pin it exactly (${name}==${v})`;
}

/** Whether an exact version agrees with the plan; the problem sentence when it does not. */
export function againstPlan(req: { name: string; norm: string }, shown: string, version: string, lint: Lint): string | null {
  const planned = lint.planned.get(req.norm);
  if (!planned) return null;
  const resolved = resolvePin(version, lint);
  if (resolved === null || sameVersion(resolved, planned)) return null;
  const via = version.includes('$') ? `; it resolves to ${resolved}` : '';
  return `${shown} disagrees with the plan (${req.name} ${planned}${via})`;
}

/** The verdict on a parsed PEP 508 requirement of a checked package. */
export function judge(req: Requirement, lint: Lint): Verdict {
  const fix = suggestion(req.name, lint, req.norm);
  if (req.url !== null) {
    if (req.urlVersion === null) {
      return { kind: 'loose', problem: `${req.name} is unpinned: ${req.url} names no version; ${fix}` };
    }
    return { kind: 'exact', version: req.urlVersion, problem: againstPlan(req, `${req.name} from ${req.url} (${req.urlVersion})`, req.urlVersion, lint) };
  }
  if (req.spec === '') return { kind: 'loose', problem: `${req.name} is unpinned; ${fix}` };
  if (req.spec.includes(',')) return { kind: 'loose', problem: `${req.display} is a range; ${fix}` };
  const m = /^(===|==|~=|!=|<=|>=|<|>)(.*)$/.exec(req.spec);
  if (!m) return { kind: 'loose', problem: `${req.display} is not an exact pin; ${fix}` };
  const [, op, version] = m;
  if ((op === '==' || op === '===') && version !== '' && !version.includes('*')) {
    return { kind: 'exact', version, problem: againstPlan(req, req.display, version, lint) };
  }
  return { kind: 'loose', problem: `${req.display} is a range; ${fix}` };
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
