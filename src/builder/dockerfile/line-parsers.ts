// Per-instruction argument parsers: they turn the text after the keyword and flags into
// argument strings, exactly as BuildKit's parser does (no expansion, no quote removal
// except JSON decoding). See README.md of the buildkit-parser corpus for the rules.

import { goIsSpace, trimSpace } from './unicode.js';

/** What an instruction's text parses into, before typing. */
export interface ParsedArgs {
  args: string[];
  /** Arguments came from a JSON array (exec form). */
  json: boolean;
}

export class LineParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineParseError';
  }
}

const WS_SPLIT = /[\t\v\f\r ]+/;

/** Splits a trimmed line into keyword and the rest, and pulls the leading `--flags` off the rest. */
export function splitCommand(line: string, escapeToken: string): { cmd: string; flags: string[]; rest: string } {
  const trimmed = trimSpace(line);
  const m = WS_SPLIT.exec(trimmed);
  if (!m) return { cmd: trimmed, flags: [], rest: '' };
  const cmd = trimmed.slice(0, m.index);
  const { rest, flags } = extractBuilderFlags(trimmed.slice(m.index + m[0].length), escapeToken);
  return { cmd, flags, rest: trimSpace(rest) };
}

/** Leading words that start with `--`; quotes and escapes inside them are removed. `--` ends them. */
export function extractBuilderFlags(line: string, escapeToken: string): { rest: string; flags: string[] } {
  const esc = escapeToken.charCodeAt(0);
  const flags: string[] = [];
  let phase: 0 | 1 | 2 = 0; // spaces, word, quote
  let word = '';
  let quote = 0;
  let blankOK = false;
  const n = line.length;
  for (let pos = 0; pos <= n; pos++) {
    const ch = pos < n ? line.charCodeAt(pos) : -1;
    if (phase === 0) {
      if (pos === n) break;
      if (goIsSpace(ch)) continue;
      if (ch !== 0x2d || pos + 1 === n || line.charCodeAt(pos + 1) !== 0x2d) return { rest: line.slice(pos), flags };
      phase = 1;
    }
    if (pos === n) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 1) {
      if (goIsSpace(ch)) {
        phase = 0;
        if (word === '--') return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = 2;
        continue;
      }
      let c = ch;
      if (c === esc) {
        if (pos + 1 === n) continue;
        pos++;
        c = line.charCodeAt(pos);
      }
      word += String.fromCharCode(c);
      continue;
    }
    // phase 2: inside quotes
    if (ch === quote) {
      phase = 1;
      continue;
    }
    let c = ch;
    if (c === esc) {
      if (pos + 1 === n) {
        phase = 1;
        continue;
      }
      pos++;
      c = line.charCodeAt(pos);
    }
    word += String.fromCharCode(c);
  }
  return { rest: '', flags };
}

/**
 * Words separated by whitespace; quotes group words but are kept, as are escapes
 * (`foo\ bar` stays one word `foo\ bar`).
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const esc = escapeToken.codePointAt(0)!;
  const words: string[] = [];
  let phase: 0 | 1 | 2 = 0;
  let quote = 0;
  let blankOK = false;
  let word = '';
  const n = rest.length;
  let width = 0;
  for (let pos = 0; pos <= n; pos += width) {
    let ch = -1;
    if (pos !== n) {
      ch = rest.codePointAt(pos)!;
      width = ch > 0xffff ? 2 : 1;
    }
    if (phase === 0) {
      if (pos === n) break;
      if (goIsSpace(ch)) continue;
      phase = 1;
    }
    if (pos === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 1) {
      if (goIsSpace(ch)) {
        phase = 0;
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = 2;
      }
      if (ch === esc) {
        if (pos + width === n) continue;
        word += String.fromCodePoint(ch);
        pos += width;
        ch = rest.codePointAt(pos)!;
        width = ch > 0xffff ? 2 : 1;
      }
      word += String.fromCodePoint(ch);
      continue;
    }
    // phase 2
    if (ch === quote) phase = 1;
    if (ch === esc && quote !== 0x27) {
      if (pos + width === n) {
        phase = 1;
        continue;
      }
      pos += width;
      word += String.fromCodePoint(ch);
      ch = rest.codePointAt(pos)!;
      width = ch > 0xffff ? 2 : 1;
    }
    word += String.fromCodePoint(ch);
  }
  return words;
}

function splitWhitespace(rest: string): string[] {
  if (rest === '') return [];
  return rest.split(WS_SPLIT);
}

/** `ENV k=v k2=v2` or legacy `ENV k v w` → triples key, value, separator ("=" or ""). */
function parseNameVal(rest: string, key: string, escapeToken: string): string[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const m = WS_SPLIT.exec(rest);
    if (!m) throw new LineParseError(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new LineParseError(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return out;
}

type JsonResult = { ok: true; args: string[] } | { ok: false };

/** A JSON array of strings; a non-string element is a hard error, anything else "not JSON". */
function parseJSON(rest: string): JsonResult {
  let i = 0;
  while (i < rest.length && goIsSpace(rest.charCodeAt(i))) i++;
  if (rest.charCodeAt(i) !== 0x5b /* [ */) return { ok: false };
  let v: unknown;
  try {
    v = JSON.parse(rest.slice(i));
  } catch {
    return { ok: false }; // not valid JSON: the caller falls back to the shell form
  }
  if (!Array.isArray(v)) return { ok: false };
  for (const e of v) {
    if (typeof e !== 'string') throw new LineParseError('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return { ok: true, args: v as string[] };
}

export function parseMaybeJSON(rest: string): ParsedArgs {
  if (rest === '') return { args: [], json: false };
  const j = parseJSON(rest);
  if (j.ok) return { args: j.args, json: true };
  return { args: [rest], json: false };
}

function parseMaybeJSONToList(rest: string): ParsedArgs {
  const j = parseJSON(rest);
  if (j.ok) return { args: j.args, json: true };
  return { args: splitWhitespace(rest), json: false };
}

function parseHealthConfig(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !goIsSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && goIsSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return { args: [], json: false };
  const cmd = parseMaybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

export type ArgParserKind = 'maybe-json' | 'maybe-json-list' | 'name-val' | 'name-or-name-val' | 'whitespace' | 'string' | 'health' | 'sub' | 'ignore';

/** Which parser each known instruction (lower-case) uses. */
export const ARG_PARSER: Readonly<Record<string, ArgParserKind>> = {
  add: 'maybe-json-list',
  arg: 'name-or-name-val',
  cmd: 'maybe-json',
  copy: 'maybe-json-list',
  entrypoint: 'maybe-json',
  env: 'name-val',
  expose: 'whitespace',
  from: 'whitespace',
  healthcheck: 'health',
  label: 'name-val',
  maintainer: 'string',
  onbuild: 'sub',
  run: 'maybe-json',
  shell: 'maybe-json',
  stopsignal: 'string',
  user: 'string',
  volume: 'maybe-json-list',
  workdir: 'string',
};

/** Parses the arguments of a (non-ONBUILD) instruction. Unknown instructions keep one empty argument. */
export function parseArgs(kind: ArgParserKind, keywordUpper: string, rest: string, escapeToken: string): ParsedArgs {
  switch (kind) {
    case 'maybe-json':
      return parseMaybeJSON(rest);
    case 'maybe-json-list':
      return parseMaybeJSONToList(rest);
    case 'name-val':
      return { args: parseNameVal(rest, keywordUpper, escapeToken), json: false };
    case 'name-or-name-val':
      return { args: parseWords(rest, escapeToken), json: false };
    case 'whitespace':
      return { args: splitWhitespace(rest), json: false };
    case 'string':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'health':
      return parseHealthConfig(rest);
    case 'sub':
    case 'ignore':
      return { args: [''], json: false };
  }
}
