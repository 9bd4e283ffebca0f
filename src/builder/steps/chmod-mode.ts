// `COPY/ADD --chmod`: octal, or symbolic as in chmod(1) (BuildKit >= Dockerfile 1.14, which
// follows BSD's setmode with a umask of 0): `+x` is `a+x`, `X` is execute only for
// directories and files that already had an execute bit (in the mode before the change),
// `g=u` copies a class's bits, clauses apply left to right.
import { invalidArgument } from '../../util/index.js';

/** A file's new permission bits (07777) from its current ones. */
export type ModeChange = (mode: number, isDir: boolean) => number;

type Who = 'u' | 'g' | 'o';
const CLASSES: readonly Who[] = ['u', 'g', 'o'];
/** Where r, w and x of a class sit. */
const SHIFT: Record<Who, number> = { u: 6, g: 3, o: 0 };

interface Action {
  op: '+' | '-' | '=';
  /** Letters from rwxXst, or one class to copy from. */
  perms: string;
  copyFrom?: Who;
}

interface Clause {
  who: Who[];
  /** No class named: all of them (umask 0). */
  all: boolean;
  actions: Action[];
}

const CLAUSE = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/;
const ACTION = /([-+=])([rwxXst]*|[ugo])(?=[-+=]|$)/g;

function badMode(value: string): never {
  throw invalidArgument(`invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`);
}

/** Parses an octal or symbolic `--chmod`; throws invalid-argument with BuildKit's message. */
export function parseModeChange(value: string): ModeChange {
  if (/^[0-7]+$/.test(value)) {
    const n = Number.parseInt(value, 8);
    if (n > 0o7777) badMode(value);
    return () => n;
  }
  if (value === '') badMode(value);
  const clauses: Clause[] = value.split(',').map((text) => {
    const m = CLAUSE.exec(text);
    if (!m) badMode(value);
    const letters = m[1]!;
    const all = letters === '' || letters.includes('a');
    const who = all ? [...CLASSES] : CLASSES.filter((c) => letters.includes(c));
    const actions: Action[] = [];
    for (const a of m[2]!.matchAll(ACTION)) {
      const perms = a[2]!;
      const copy = /^[ugo]$/.test(perms) ? (perms as Who) : undefined;
      actions.push({ op: a[1] as Action['op'], perms: copy ? '' : perms, ...(copy ? { copyFrom: copy } : {}) });
    }
    return { who, all, actions };
  });
  return (mode, isDir) => applyClauses(clauses, mode & 0o7777, isDir);
}

function applyClauses(clauses: Clause[], original: number, isDir: boolean): number {
  const hadExec = (original & 0o111) !== 0;
  let mode = original;
  for (const c of clauses) {
    for (const a of c.actions) {
      let bits = 0;
      if (a.copyFrom) {
        const rwx = (mode >> SHIFT[a.copyFrom]) & 0o7;
        for (const w of c.who) bits |= rwx << SHIFT[w];
      } else {
        let rwx = 0;
        if (a.perms.includes('r')) rwx |= 4;
        if (a.perms.includes('w')) rwx |= 2;
        if (a.perms.includes('x') || (a.perms.includes('X') && (isDir || hadExec))) rwx |= 1;
        for (const w of c.who) bits |= rwx << SHIFT[w];
        if (a.perms.includes('s')) {
          if (c.who.includes('u')) bits |= 0o4000;
          if (c.who.includes('g')) bits |= 0o2000;
        }
        if (a.perms.includes('t') && (c.all || c.who.includes('o'))) bits |= 0o1000;
      }
      if (a.op === '+') mode |= bits;
      else if (a.op === '-') mode &= ~bits;
      else {
        let clear = 0;
        for (const w of c.who) clear |= 0o7 << SHIFT[w];
        if (c.who.includes('u')) clear |= 0o4000;
        if (c.who.includes('g')) clear |= 0o2000;
        if (c.all || c.who.includes('o')) clear |= 0o1000;
        mode = (mode & ~clear) | bits;
      }
    }
  }
  return mode & 0o7777;
}
