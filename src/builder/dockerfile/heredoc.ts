// Heredocs (`RUN <<EOF`, `COPY <<-'EOF' /dst`): recognising the heredoc word and finding the
// heredocs on an instruction line. Bodies are read by the parser. BuildKit semantics: a
// quoted (even partly quoted) name disables expansion; `<<-` strips leading tabs later.

import { processWords, ShellLexError } from './shell-lex.js';

export interface Heredoc {
  name: string;
  /** Raw body: every line up to the terminator, each with its newline. Not chomped. */
  content: string;
  expand: boolean;
  chomp: boolean;
  fileDescriptor: number;
}

const HEREDOC_RE = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const NO_ENV: ReadonlyMap<string, string> = new Map();

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
}

/**
 * Parses one word such as `<<EOF`, `3<<-'EOF'`. Returns undefined when the word is not a
 * heredoc; throws ShellLexError when it is one with broken quoting (`<<'EOF`).
 */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  const words = processWords(rest, NO_ENV, { skipUnsetEnv: true });
  if (words.length !== 1) return undefined;
  const raw = processWords(rest, NO_ENV, { skipUnsetEnv: true, rawQuotes: true });
  if (raw.length !== 1) throw new ShellLexError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const name = words[0]!;
  return {
    name,
    expand: countQuotes(name) === countQuotes(raw[0]!),
    chomp: m[2] === '-',
    fileDescriptor: m[1] ? Number.parseInt(m[1], 10) : 0,
  };
}

/** The heredocs announced on an instruction line, in order (bodies still empty). */
export function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = processWords(line, NO_ENV, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch (e) {
    // BuildKit ignores lexing errors here: a line it cannot split has no heredocs.
    if (e instanceof ShellLexError) return [];
    throw e;
  }
  const out: Heredoc[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) out.push({ ...h, content: '' });
  }
  return out;
}

/** Strips leading tabs from every line (`<<-`). */
export function chompHeredocContent(src: string): string {
  return src.replace(/(^|\n)\t+/g, '$1');
}
