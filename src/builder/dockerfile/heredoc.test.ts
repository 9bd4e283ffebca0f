import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAst } from './parser.js';
import { chompHeredocContent, heredocsFromLine, parseHeredoc } from './heredoc.js';
import { corpusMissing, corpusPath } from './corpus-location.js';

const SUB = 'buildkit-parser/heredocs.json';
const file = await corpusPath(SUB);
const skip = file ? false : corpusMissing('buildkit-parser');

interface Data {
  parse_cases: { description: string; dockerfile: string; instructionIndex: number; heredocs: unknown[] | null }[];
  heredoc_word_cases: { valid_name_EOF: string[]; error: string[]; not_heredoc: string[] };
  heredocs_from_line_cases: { line: string; names: string[] }[];
  chomp_cases: { input: string; output: string }[];
}
const data = file ? (JSON.parse(readFileSync(file, 'utf8')) as Data) : undefined;

test('heredoc parse cases attach the expected bodies to the expected instruction', { skip }, () => {
  for (const c of data!.parse_cases) {
    const ast = parseAst(c.dockerfile);
    const node = ast.children[c.instructionIndex]!;
    const got = node.heredocs.length === 0 ? null : node.heredocs.map((h) => ({ name: h.name, content: h.content, expand: h.expand, chomp: h.chomp, fileDescriptor: h.fileDescriptor }));
    assert.deepEqual(got, c.heredocs, c.description);
  }
});

test('heredoc words are recognised, rejected or ignored as BuildKit does', { skip }, () => {
  const w = data!.heredoc_word_cases;
  for (const s of w.valid_name_EOF) assert.equal(parseHeredoc(s)?.name, 'EOF', s);
  for (const s of w.error) assert.throws(() => parseHeredoc(s), s);
  for (const s of w.not_heredoc) assert.equal(parseHeredoc(s), undefined, s);
});

test('heredoc names found on a whole instruction line', { skip }, () => {
  for (const c of data!.heredocs_from_line_cases) assert.deepEqual(heredocsFromLine(c.line).map((h) => h.name), c.names, c.line);
});

test('chomping strips leading tabs of every body line', { skip }, () => {
  for (const c of data!.chomp_cases) assert.equal(chompHeredocContent(c.input), c.output);
});

test('an unterminated heredoc is a located error', () => {
  assert.throws(() => parseAst('FROM a\nRUN <<EOF\necho hi\n'), /^Error|Dockerfile:2: unterminated heredoc/);
});

test('ONBUILD RUN with a heredoc reads the body and spans its lines', () => {
  const ast = parseAst('FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\nRUN x\n');
  const n = ast.children[1]!;
  assert.equal(n.heredocs[0]?.content, 'echo hi\n');
  assert.deepEqual([n.startLine, n.endLine], [2, 4]);
  assert.equal(ast.children[2]!.startLine, 5);
});
