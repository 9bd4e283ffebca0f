import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAst } from './parser.js';
import { dumpAst } from './dump.js';
import { SourceError } from '../../util/index.js';
import { corpusMissing, corpusPath } from './corpus-location.js';

const SUB = 'buildkit-parser';
const dir = await corpusPath(SUB);
const skip = dir ? false : corpusMissing(SUB);

test('every positive corpus case dumps byte-for-byte like its result file', { skip }, () => {
  const cases = readdirSync(join(dir!, 'testfiles')).sort();
  assert.ok(cases.length >= 30);
  const failures: string[] = [];
  for (const c of cases) {
    const df = readFileSync(join(dir!, 'testfiles', c, 'Dockerfile'), 'utf8');
    const want = readFileSync(join(dir!, 'testfiles', c, 'result'), 'utf8');
    let got: string;
    try {
      got = dumpAst(parseAst(df)) + '\n';
    } catch (e) {
      got = `ERROR ${(e as Error).message}`;
    }
    if (got !== want) failures.push(`${c}:\n--- got\n${got}--- want\n${want}`);
  }
  assert.equal(failures.join('\n'), '');
});

test('every negative corpus case fails with a located SourceError', { skip }, () => {
  for (const c of readdirSync(join(dir!, 'testfiles-negative'))) {
    const df = readFileSync(join(dir!, 'testfiles-negative', c, 'Dockerfile'), 'utf8');
    assert.throws(() => parseAst(df), SourceError, c);
  }
});

test('line ranges of instructions match BuildKit for the testfile-line case', { skip }, () => {
  const ast = parseAst(readFileSync(join(dir!, 'testfile-line', 'Dockerfile'), 'utf8'));
  assert.equal(ast.startLine, 5);
  assert.equal(ast.endLine, 31);
  assert.deepEqual(ast.children.map((c) => [c.startLine, c.endLine]), [[5, 5], [11, 12], [17, 31]]);
});

test('empty continuation lines produce warnings naming the joined line', () => {
  const df = '\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment\n\t';
  const ast = parseAst(df);
  assert.equal(ast.warnings.length, 2);
  assert.match(ast.warnings[0]!.short, /RUN something {5}following {5}more/);
  assert.match(ast.warnings[1]!.short, /RUN another {5}thing/);
});

test('a line longer than 64 KiB is rejected like BuildKit', () => {
  const df = `\n\t\tFROM image\n\t\tLABEL test=${'a'.repeat(65536)}\n`;
  assert.throws(() => parseAst(df), /dockerfile line greater than max allowed size of 65535/);
});

test('directives are read only at the top, once each, and set the escape token', () => {
  const ast = parseAst('# syntax=docker/dockerfile:1\n# ESCAPE = `\n# check=skip=all\nFROM a\nRUN x `\n  y\n');
  assert.deepEqual(ast.directives.map((d) => [d.name, d.value, d.line]), [['syntax', 'docker/dockerfile:1', 1], ['escape', '`', 2], ['check', 'skip=all', 3]]);
  assert.equal(ast.escapeToken, '`');
  assert.deepEqual(ast.children[1]!.args, ['x   y']);
  assert.throws(() => parseAst('# escape=\\\n# escape=`\nFROM a\n'), /only one escape parser directive can be used/);
  assert.throws(() => parseAst('# escape=x\nFROM a\n'), /invalid escape token 'x'/);
  const late = parseAst('# hello\n# escape=`\nFROM a\n');
  assert.equal(late.escapeToken, '\\');
  assert.equal(late.directives.length, 0);
});

test('an unknown instruction keeps its flags and one empty argument', () => {
  assert.equal(dumpAst(parseAst('FROM a\nFOO --x=1 bar baz\n')), '(from "a")\n(foo ["--x=1"] "")');
});

test('comments directly above an instruction are attached to it', () => {
  const ast = parseAst('# base image\nFROM a\n#\n# run it\nRUN x\n');
  assert.deepEqual(ast.children[0]!.comments, ['base image']);
  assert.deepEqual(ast.children[1]!.comments, ['run it']);
});

test('syntax errors carry the file name and the instruction line', () => {
  try {
    parseAst('FROM a\n\nENV PATH\n', { file: 'app.Dockerfile' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof SourceError);
    assert.equal(e.message, 'app.Dockerfile:3: ENV must have two arguments');
  }
});
