/**
 * Shell text of a RUN instruction split into words and commands. Hand-written on purpose:
 * dockerfile-ast splits a RUN's arguments on white space only (a quoted "torch >= 2" becomes three
 * arguments, && inside a word is not an operator), and the JavaScript shell parsers on npm are
 * unmaintained or a whole POSIX grammar for what is needed here: words with quotes removed, the
 * operators between commands, and the line each word comes from.
 */

export interface Ch {
  c: string;
  line: number;
}

export interface Word {
  op: false;
  v: string;
  line: number;
  /** Offset in v of the first unquoted < or >, or -1: the shell reads it as a redirection. */
  redirect: number;
}
export interface Op {
  op: true;
  v: string;
  line: number;
}
export type Token = Word | Op;

/** Splits shell text into words (quotes removed, $ expansions kept as written) and operators. */
export function tokenize(chars: Ch[]): Token[] {
  const out: Token[] = [];
  let word: Word | null = null;
  const start = (line: number): Word => (word ??= { op: false, v: '', line, redirect: -1 });
  const flush = () => {
    if (word) out.push(word);
    word = null;
  };
  const at = (i: number) => (i < chars.length ? chars[i].c : '');
  for (let i = 0; i < chars.length; i++) {
    const { c, line } = chars[i];
    if (c === "'") {
      const w = start(line);
      for (i++; i < chars.length && chars[i].c !== "'"; i++) w.v += chars[i].c;
    } else if (c === '"') {
      const w = start(line);
      for (i++; i < chars.length && chars[i].c !== '"'; i++) {
        if (chars[i].c === '\\' && '"\\$`\n'.includes(at(i + 1))) {
          i++;
          if (chars[i].c !== '\n') w.v += chars[i].c;
        } else w.v += chars[i].c;
      }
    } else if (c === '\\') {
      if (at(i + 1) === '\n') i++;
      else if (i + 1 < chars.length) start(line).v += chars[++i].c;
    } else if (c === '`') {
      const w = start(line);
      w.v += c;
      for (i++; i < chars.length && chars[i].c !== '`'; i++) w.v += chars[i].c;
      w.v += '`';
    } else if (c === '$' && at(i + 1) === '(') {
      // $( ... ): kept inside the word, balanced
      const w = start(line);
      let depth = 0;
      for (; i < chars.length; i++) {
        w.v += chars[i].c;
        if (chars[i].c === '(') depth++;
        else if (chars[i].c === ')' && --depth === 0) break;
      }
    } else if (c === ' ' || c === '\t' || c === '\r') {
      flush();
    } else if (c === '\n') {
      flush();
      out.push({ op: true, v: ';', line });
    } else if (c === '#' && word === null) {
      while (i + 1 < chars.length && chars[i + 1].c !== '\n') i++;
    } else if (c === '<' || c === '>') {
      const w = start(line);
      if (w.redirect < 0) w.redirect = w.v.length;
      w.v += c;
    } else if (c === '&' && (at(i + 1) === '>' || (word !== null && /[<>]$/.test((word as Word).v)))) {
      const w = start(line);
      if (w.redirect < 0 && at(i + 1) === '>') w.redirect = w.v.length;
      w.v += c;
    } else if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') {
      flush();
      const two = c + at(i + 1);
      if (two === '&&' || two === '||' || two === ';;') {
        out.push({ op: true, v: two, line });
        i++;
      } else out.push({ op: true, v: c, line });
    } else {
      start(line).v += c;
    }
  }
  flush();
  return out;
}

export interface Command {
  words: Word[];
  /** Runs only when an earlier command failed: after ||, or inside a group that follows ||. */
  fallback: boolean;
}

export function commands(tokens: Token[], inherited = false): Command[] {
  const out: Command[] = [];
  const groups: boolean[] = [];
  let words: Word[] = [];
  let prev = '';
  const inFallback = () => inherited || groups.some(Boolean);
  const end = () => {
    if (words.length) out.push({ words, fallback: prev === '||' || inFallback() });
    words = [];
  };
  for (const t of tokens) {
    if (!t.op && words.length === 0 && (t.v === '{' || t.v === '}')) {
      if (t.v === '{') groups.push(prev === '||');
      else groups.pop();
      prev = t.v === '{' ? prev : ';';
      continue;
    }
    if (!t.op) {
      words.push(t);
      continue;
    }
    end();
    if (t.v === '(') groups.push(prev === '||');
    else if (t.v === ')') groups.pop();
    if (t.v !== '(') prev = t.v;
  }
  end();
  return out;
}
