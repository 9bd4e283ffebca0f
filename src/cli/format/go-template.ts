// The subset of Go's text/template that docker's `--format` users write:
//   {{.Field.Sub}}  {{json .}}  {{.X | json}}  {{index .Labels "k"}}  {{join .RepoTags ", "}}
//   {{if …}}…{{else if …}}…{{else}}…{{end}}  {{range .X}}…{{end}}  {{range $k, $v := .M}}  {{with …}}
//   {{- trim -}}, string/number/bool literals, (sub pipelines), $ and $variables,
// and docker's template functions (json, join, split, title, lower, upper, pad, truncate, println).
// Values print the way Go's fmt prints decoded JSON: `[a b]`, `map[k:v]`, `<no value>`.
import { BerthError } from '../../util/index.js';

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline }
  | { t: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { t: 'range'; vars: string[]; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { t: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

type Operand =
  | { t: 'field'; base: 'dot' | string; path: string[] }
  | { t: 'lit'; value: unknown }
  | { t: 'ident'; name: string }
  | { t: 'sub'; pipe: Pipeline; path: string[] };

type Command = Operand[];
interface Pipeline {
  decl?: string[];
  cmds: Command[];
}

const NO_VALUE = Symbol('no value');

function templateError(msg: string): BerthError {
  return new BerthError('invalid-argument', `template: ${msg}`);
}

// --- lexing ---------------------------------------------------------------------

interface Chunk {
  kind: 'text' | 'action';
  text: string;
}

function split(src: string): Chunk[] {
  const out: Chunk[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ kind: 'text', text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) out.push({ kind: 'text', text });
    const close = findClose(src, start);
    if (close < 0) throw templateError('unclosed action');
    let end = close;
    let trimAfter = false;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) {
      end = close - 1;
      trimAfter = true;
    }
    out.push({ kind: 'action', text: src.slice(start, end).trim() });
    i = close + 2;
    if (trimAfter) while (i < src.length && /\s/.test(src[i]!)) i++;
  }
  return out;
}

/** The `}}` that closes an action, skipping over string literals. */
function findClose(src: string, from: number): number {
  let q: string | null = null;
  for (let i = from; i < src.length; i++) {
    const c = src[i]!;
    if (q) {
      if (c === '\\' && q === '"') i++;
      else if (c === q) q = null;
    } else if (c === '"' || c === '`') q = c;
    else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

type Tok = { t: 'str' | 'num' | 'word' | 'field' | 'var' | 'punct'; v: string };

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push({ t: 'str', v: JSON.parse(s.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) throw templateError('unterminated raw string');
      toks.push({ t: 'str', v: s.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '|' || c === '(' || c === ')' || c === ',') {
      toks.push({ t: 'punct', v: c });
      i++;
    } else if (c === ':' && s[i + 1] === '=') {
      toks.push({ t: 'punct', v: ':=' });
      i += 2;
    } else if (c === '=') {
      toks.push({ t: 'punct', v: '=' });
      i++;
    } else {
      const m = /^(?:\$[\w]*(?:\.[\w]+)*|\.(?:[\w]+(?:\.[\w]+)*)?|-?\d+(?:\.\d+)?|[A-Za-z_]\w*)/.exec(s.slice(i));
      if (!m || !m[0]) throw templateError(`unexpected "${c}" in action`);
      const w = m[0];
      toks.push({ t: w.startsWith('$') ? 'var' : w.startsWith('.') ? 'field' : /^-?\d/.test(w) ? 'num' : 'word', v: w });
      i += w.length;
    }
  }
  return toks;
}

// --- parsing --------------------------------------------------------------------

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok | undefined { return this.toks[this.pos]; }
  private next(): Tok | undefined { return this.toks[this.pos++]; }
  atEnd(): boolean { return this.pos >= this.toks.length; }

  pipeline(): Pipeline {
    const p: Pipeline = { cmds: [] };
    // `$k, $v :=` or `$x :=`
    const save = this.pos;
    const vars: string[] = [];
    while (this.peek()?.t === 'var') {
      vars.push(this.next()!.v);
      if (this.peek()?.v === ',') this.next();
      else break;
    }
    if (vars.length && (this.peek()?.v === ':=' || this.peek()?.v === '=')) {
      this.next();
      p.decl = vars;
    } else this.pos = save;
    for (;;) {
      const cmd: Command = [];
      while (!this.atEnd() && this.peek()!.v !== '|' && this.peek()!.v !== ')') cmd.push(this.operand());
      if (!cmd.length) throw templateError('missing value for command');
      p.cmds.push(cmd);
      if (this.peek()?.v === '|') { this.next(); continue; }
      break;
    }
    return p;
  }

  private operand(): Operand {
    const tok = this.next()!;
    switch (tok.t) {
      case 'str': return { t: 'lit', value: tok.v };
      case 'num': return { t: 'lit', value: Number(tok.v) };
      case 'field': return { t: 'field', base: 'dot', path: tok.v === '.' ? [] : tok.v.slice(1).split('.') };
      case 'var': {
        const [name, ...path] = tok.v.split('.');
        return { t: 'field', base: name!, path };
      }
      case 'word':
        if (tok.v === 'true' || tok.v === 'false') return { t: 'lit', value: tok.v === 'true' };
        if (tok.v === 'nil') return { t: 'lit', value: null };
        return { t: 'ident', name: tok.v };
      case 'punct':
        if (tok.v === '(') {
          const pipe = this.pipeline();
          if (this.next()?.v !== ')') throw templateError('unclosed left paren');
          let path: string[] = [];
          const after = this.peek();
          if (after?.t === 'field' && after.v !== '.') {
            path = after.v.slice(1).split('.');
            this.next();
          }
          return { t: 'sub', pipe, path };
        }
    }
    throw templateError(`unexpected "${tok.v}" in operand`);
  }
}

function parsePipeline(text: string): Pipeline {
  const p = new Parser(tokenize(text));
  const pipe = p.pipeline();
  if (!p.atEnd()) throw templateError(`unexpected token in "${text}"`);
  return pipe;
}

function parseTemplate(src: string): Node[] {
  const chunks = split(src);
  let i = 0;
  // Parses nodes until one of `stops` (an action keyword) and returns which one ended it.
  function nodes(stops: string[]): { body: Node[]; stop: string; rest: string } {
    const body: Node[] = [];
    while (i < chunks.length) {
      const c = chunks[i++]!;
      if (c.kind === 'text') { body.push({ t: 'text', text: c.text }); continue; }
      const text = c.text;
      if (text.startsWith('/*')) continue;
      const kw = /^(\w+)\b\s*(.*)$/s.exec(text);
      const word = kw?.[1] ?? '';
      const rest = kw?.[2] ?? '';
      if (stops.includes(word)) return { body, stop: word, rest };
      if (word === 'if') body.push(ifNode(rest));
      else if (word === 'range' || word === 'with') {
        const pipe = parsePipeline(rest);
        const inner = nodes(['else', 'end']);
        let otherwise: Node[] = [];
        if (inner.stop === 'else') otherwise = nodes(['end']).body;
        if (word === 'range') body.push({ t: 'range', vars: pipe.decl ?? [], pipe: { cmds: pipe.cmds }, body: inner.body, otherwise });
        else body.push({ t: 'with', pipe, body: inner.body, otherwise });
      } else if (word === 'end' || word === 'else') throw templateError(`unexpected {{${word}}}`);
      else body.push({ t: 'action', pipe: parsePipeline(text) });
    }
    if (stops.length) throw templateError(`unexpected EOF, expected {{${stops.join('}} or {{')}}}`);
    return { body, stop: '', rest: '' };
  }
  function ifNode(condText: string): Node {
    const branches: { cond: Pipeline; body: Node[] }[] = [];
    let otherwise: Node[] = [];
    let cond = parsePipeline(condText);
    for (;;) {
      const r = nodes(['else', 'end']);
      branches.push({ cond, body: r.body });
      if (r.stop === 'end') break;
      const elseIf = /^if\s+(.*)$/s.exec(r.rest);
      if (elseIf) { cond = parsePipeline(elseIf[1]!); continue; }
      otherwise = nodes(['end']).body;
      break;
    }
    return { t: 'if', branches, otherwise };
  }
  return nodes([]).body;
}

// --- evaluation -----------------------------------------------------------------

type Scope = Map<string, unknown>;

function isTruthy(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function sortedKeys(o: object): string[] {
  return Object.keys(o).sort();
}

/** Go fmt's %v for values decoded from JSON. */
export function printValue(v: unknown): string {
  if (v === NO_VALUE || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : goFloat(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(printNested).join(' ')}]`;
  if (typeof v === 'object') return `map[${sortedKeys(v).map((k) => `${k}:${printNested((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  return String(v);
}

function printNested(v: unknown): string {
  return v === null || v === undefined ? '<nil>' : printValue(v);
}

/** A copy with object keys in sorted order, as Go marshals a map. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(sortedKeys(o).map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

/**
 * Keys whose values are Go maps in Docker's API types (json.Marshal sorts their keys); every
 * other object is a struct, marshalled in field order. `Config` is a map only in `LogConfig`.
 */
const GO_MAP_FIELDS = new Set([
  'Labels', 'ExposedPorts', 'Volumes', 'Ports', 'Networks', 'Options', 'DriverOpts', 'Sysctls', 'StorageOpt', 'Tmpfs',
  'Annotations', 'annotations', 'Data', 'Containers', 'Status', 'Services', 'PortBindings',
]);

/** A struct's JSON names: Go's exported fields, and the OCI descriptor/platform fields. */
const STRUCT_KEY = /^[A-Z][A-Za-z0-9_]*$/;
const OCI_FIELDS = new Set(['mediaType', 'digest', 'size', 'urls', 'annotations', 'platform', 'artifactType', 'data', 'architecture', 'os', 'os.version', 'os.features', 'variant']);

/** Whether `o` (the value of `key` inside `parent`) is a Go map: by name, else by its keys. */
function isGoMap(o: object, key: string, parent: string): boolean {
  if (GO_MAP_FIELDS.has(key) || (key === 'Config' && parent === 'LogConfig')) return true;
  return Object.keys(o).some((k) => !STRUCT_KEY.test(k) && !OCI_FIELDS.has(k));
}

/** A copy ordered as Go marshals Docker's typed structs: fields as received, maps sorted. */
function structOrder(v: unknown, key = '', parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => structOrder(x, '', key));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const isMap = isGoMap(o, key, parent);
    return Object.fromEntries((isMap ? sortedKeys(o) : Object.keys(o)).map((k) => [k, structOrder(o[k], isMap ? '' : k, key)]));
  }
  return v;
}

/**
 * docker's `json` template function: a json.Encoder with SetEscapeHTML(false), so `<`, `>`
 * and `&` stay as they are; Go still escapes U+2028 and U+2029.
 */
function goJson(v: unknown, json: JsonOptions): string {
  const value = v === NO_VALUE ? null : v;
  const text = (JSON.stringify(json.keys === 'struct' ? structOrder(value) : sortKeys(value)) ?? 'null').replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  // A list row (`docker images --format '{{json .}}'`) marshals itself with json.Marshal, which
  // does escape HTML; the encoder keeps those escapes. Plain strings and other values do not.
  return json.listRows && value !== null && typeof value === 'object' ? escapeHtml(text) : text;
}

function escapeHtml(json: string): string {
  return json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

function goFloat(v: number): string {
  const s = String(v);
  return s.replace(/e\+?(-?)(\d)$/, 'e+$10$2').replace('e+-', 'e-');
}

function field(v: unknown, name: string): unknown {
  if (v === null || v === undefined || v === NO_VALUE) return NO_VALUE;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(o, name)) return o[name];
    return NO_VALUE;
  }
  throw templateError(`can't evaluate field ${name} in type ${Array.isArray(v) ? 'slice' : typeof v}`);
}

function toStr(v: unknown): string {
  return typeof v === 'string' ? v : printValue(v);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return toStr(a) < toStr(b) ? -1 : toStr(a) > toStr(b) ? 1 : 0;
}

function sprintf(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([svdqtf%])/g, (_m, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    if (verb === 'q') s = JSON.stringify(toStr(a));
    else if (verb === 'd') s = String(Math.trunc(Number(a)));
    else if (verb === 'f') {
      const prec = /\.(\d+)/.exec(flags);
      s = Number(a).toFixed(prec ? Number(prec[1]) : 6);
    } else s = toStr(a);
    const width = /^-?0?(\d+)/.exec(flags.replace(/\.\d+$/, ''));
    if (width) s = flags.startsWith('-') ? s.padEnd(Number(width[1])) : s.padStart(Number(width[1]));
    return s;
  });
}

function titleCase(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  join: (v, sep) => (Array.isArray(v) ? v.map(toStr).join(toStr(sep)) : toStr(v)),
  split: (s, sep) => toStr(s).split(toStr(sep)),
  title: (s) => titleCase(toStr(s)),
  lower: (s) => toStr(s).toLowerCase(),
  upper: (s) => toStr(s).toUpperCase(),
  pad: (s, l, r) => ' '.repeat(Number(l)) + toStr(s) + ' '.repeat(Number(r)),
  truncate: (s, n) => {
    const chars = [...toStr(s)];
    return chars.length > Number(n) ? chars.slice(0, Number(n)).join('') : toStr(s);
  },
  println: (...a) => a.map(toStr).join(' ') + '\n',
  print: (...a) => a.map(toStr).join(''),
  printf: (fmt, ...a) => sprintf(toStr(fmt), a),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur)) cur = cur[Number(k)];
      else if (cur && typeof cur === 'object') {
        const o = cur as Record<string, unknown>;
        cur = Object.prototype.hasOwnProperty.call(o, toStr(k)) ? o[toStr(k)] : NO_VALUE;
      } else cur = NO_VALUE;
    }
    return cur === undefined ? NO_VALUE : cur;
  },
  not: (v) => !isTruthy(v),
  and: (...a) => a.find((x) => !isTruthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => isTruthy(x)) ?? a[a.length - 1],
  eq: (a, ...bs) => bs.some((b) => compare(a, b) === 0),
  ne: (a, b) => compare(a, b) !== 0,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
};

function evalOperand(op: Operand, dot: unknown, scope: Scope): unknown {
  switch (op.t) {
    case 'lit': return op.value;
    case 'field': {
      let v: unknown;
      if (op.base === 'dot') v = dot;
      else {
        if (!scope.has(op.base)) throw templateError(`undefined variable "${op.base}"`);
        v = scope.get(op.base);
      }
      for (const f of op.path) v = field(v, f);
      return v;
    }
    case 'sub': {
      let v = evalPipeline(op.pipe, dot, scope);
      for (const f of op.path) v = field(v, f);
      return v;
    }
    case 'ident': return callFunc(op.name, [], scope);
  }
}

/** How `json` renders (JsonOptions), kept in the scope under a name no template variable can have. */
const JSON_OPTIONS = '\0json';

function callFunc(name: string, args: unknown[], scope: Scope): unknown {
  if (name === 'json') return goJson(args[0], scope.get(JSON_OPTIONS) as JsonOptions);
  const fn = FUNCS[name];
  if (!fn) throw templateError(`function "${name}" not defined`);
  return fn(...args);
}

function evalCommand(cmd: Command, dot: unknown, scope: Scope, piped: unknown[]): unknown {
  const [head, ...rest] = cmd;
  if (head!.t === 'ident') return callFunc(head!.name, [...rest.map((o) => evalOperand(o, dot, scope)), ...piped], scope);
  if (rest.length || piped.length) throw templateError(`can't give argument to non-function`);
  return evalOperand(head!, dot, scope);
}

function evalPipeline(p: Pipeline, dot: unknown, scope: Scope): unknown {
  let v: unknown;
  p.cmds.forEach((cmd, i) => {
    v = evalCommand(cmd, dot, scope, i === 0 ? [] : [v]);
  });
  if (p.decl) for (const name of p.decl) scope.set(name, v);
  return v;
}

function exec(nodes: Node[], dot: unknown, scope: Scope, out: string[]): void {
  for (const n of nodes) {
    switch (n.t) {
      case 'text': out.push(n.text); break;
      case 'action': {
        const v = evalPipeline(n.pipe, dot, scope);
        if (!n.pipe.decl) out.push(printValue(v));
        break;
      }
      case 'if': {
        const hit = n.branches.find((b) => isTruthy(evalPipeline(b.cond, dot, scope)));
        exec(hit ? hit.body : n.otherwise, dot, scope, out);
        break;
      }
      case 'with': {
        const v = evalPipeline(n.pipe, dot, scope);
        if (isTruthy(v)) exec(n.body, v, scope, out);
        else exec(n.otherwise, dot, scope, out);
        break;
      }
      case 'range': {
        const v = evalPipeline(n.pipe, dot, scope);
        const entries: [unknown, unknown][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === 'object'
            ? sortedKeys(v).map((k) => [k, (v as Record<string, unknown>)[k]])
            : typeof v === 'number'
              ? Array.from({ length: v }, (_x, i) => [i, i])
              : [];
        if (!entries.length) { exec(n.otherwise, dot, scope, out); break; }
        for (const [k, x] of entries) {
          if (n.vars.length === 1) scope.set(n.vars[0]!, x);
          if (n.vars.length === 2) { scope.set(n.vars[0]!, k); scope.set(n.vars[1]!, x); }
          exec(n.body, x, scope, out);
        }
        break;
      }
    }
  }
}

export interface GoTemplate {
  execute(data: unknown): string;
}

/**
 * How `json` orders object keys. `sorted`: as Go marshals a map (what docker's ps, images, …
 * rows are). `struct`: as the API sent them, the way Go marshals the typed structs that
 * `docker inspect` renders (field order), with the fields that are Go maps sorted.
 */
export type JsonKeyOrder = 'sorted' | 'struct';

interface JsonOptions {
  keys: JsonKeyOrder;
  /** The data are rows of a list command (`renderList`), which docker marshals HTML-escaped. */
  listRows: boolean;
}

/** Parses a template once; `execute` renders it against one value. Errors are invalid-argument. */
export function parseGoTemplate(src: string, opts: { jsonKeys?: JsonKeyOrder; listRows?: boolean } = {}): GoTemplate {
  const nodes = parseTemplate(src);
  const json: JsonOptions = { keys: opts.jsonKeys ?? 'sorted', listRows: opts.listRows === true };
  return {
    execute(data: unknown): string {
      const out: string[] = [];
      exec(nodes, data, new Map<string, unknown>([['$', data], [JSON_OPTIONS, json]]), out);
      return out.join('');
    },
  };
}
