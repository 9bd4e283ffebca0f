import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoTemplate, printValue } from './go-template.js';

const render = (tmpl: string, data: unknown) => parseGoTemplate(tmpl).execute(data);

const image = {
  Id: 'sha256:abc',
  RepoTags: ['busybox:latest', 'busybox:1'],
  Size: 4261550,
  Config: { Cmd: ['sh'], Env: ['PATH=/bin'], Labels: { b: '2', a: '1' }, Volumes: null },
  Empty: [],
};

test('fields, nested fields and missing keys print as Go does', () => {
  assert.equal(render('{{.Id}}', image), 'sha256:abc');
  assert.equal(render('{{.Config.Cmd}}', image), '[sh]');
  assert.equal(render('{{.Size}}', image), '4261550');
  assert.equal(render('{{.Config.Labels}}', image), 'map[a:1 b:2]');
  assert.equal(render('{{.Config.Volumes}}', image), '<nil>');
  assert.equal(render('{{.Nope}}', image), '<no value>');
  assert.equal(render('id={{.Id}}!', image), 'id=sha256:abc!');
});

test('json renders a value and works as a function or in a pipeline', () => {
  assert.equal(render('{{json .Config.Cmd}}', image), '["sh"]');
  assert.equal(render('{{.Config.Cmd | json}}', image), '["sh"]');
  assert.equal(render('{{json .}}', { B: 'x', A: 1 }), '{"A":1,"B":"x"}');
  // docker's json function does not escape HTML characters in a value; Go still escapes U+2028/9.
  assert.equal(render('{{json .Name}}', { Name: '<a&b>\u2028' }), '"<a&b>\\u2028"');
  assert.equal(parseGoTemplate('{{json .}}', { jsonKeys: 'struct' }).execute({ s: '<a&b>' }), '{"s":"<a&b>"}');
});

test('json of a whole list row escapes HTML characters, as a row marshals itself with json.Marshal', () => {
  const row = parseGoTemplate('{{json .}}', { listRows: true });
  assert.equal(row.execute({ Digest: '<none>', Tag: 'a&b' }), '{"Digest":"\\u003cnone\\u003e","Tag":"a\\u0026b"}');
});

test('docker template functions: join, index, upper, lower, title, split, truncate, pad, len', () => {
  assert.equal(render('{{join .RepoTags ", "}}', image), 'busybox:latest, busybox:1');
  assert.equal(render('{{index .Config.Labels "a"}}', image), '1');
  assert.equal(render('{{index .RepoTags 1}}', image), 'busybox:1');
  assert.equal(render('{{upper .Id}}', image), 'SHA256:ABC');
  assert.equal(render('{{lower "AbC"}}', image), 'abc');
  assert.equal(render('{{title "hello world"}}', image), 'Hello World');
  assert.equal(render('{{index (split .Id ":") 1}}', image), 'abc');
  assert.equal(render('{{truncate .Id 6}}', image), 'sha256');
  assert.equal(render('{{pad "x" 1 2}}|', image), ' x  |');
  assert.equal(render('{{len .RepoTags}}', image), '2');
  assert.equal(render('{{printf "%s-%d" "a" 7}}', image), 'a-7');
});

test('if, else if, else, with and range control flow', () => {
  assert.equal(render('{{if .Empty}}yes{{else}}no{{end}}', image), 'no');
  assert.equal(render('{{if .RepoTags}}yes{{end}}', image), 'yes');
  assert.equal(render('{{if eq .Id "x"}}x{{else if eq .Id "sha256:abc"}}abc{{else}}?{{end}}', image), 'abc');
  assert.equal(render('{{range .RepoTags}}[{{.}}]{{end}}', image), '[busybox:latest][busybox:1]');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', image), 'a=1;b=2;');
  assert.equal(render('{{range .Empty}}x{{else}}none{{end}}', image), 'none');
  assert.equal(render('{{with .Config}}{{.Cmd}}{{end}}', image), '[sh]');
  assert.equal(render('{{range .RepoTags}}{{$.Id}} {{end}}', image), 'sha256:abc sha256:abc ');
  assert.equal(render('{{(index .RepoTags 0)}}', image), 'busybox:latest');
  assert.equal(render('{{not .Empty}} {{and 1 0}} {{or 0 "x"}}', image), 'true 0 x');
});

test('trim markers remove the whitespace beside an action', () => {
  assert.equal(render('a  {{- .Id -}}  b', image), 'asha256:abcb');
  assert.equal(render('{{range .RepoTags -}}\n  {{.}}\n{{- end}}', image), 'busybox:latestbusybox:1');
});

test('bad templates fail with a template error before anything runs', () => {
  assert.throws(() => parseGoTemplate('{{.Id'), /template: unclosed action/);
  assert.throws(() => parseGoTemplate('{{if .Id}}x'), /template: unexpected EOF/);
  assert.throws(() => parseGoTemplate('{{end}}'), /template: unexpected \{\{end\}\}/);
  assert.throws(() => render('{{nosuchfunc .Id}}', image), /function "nosuchfunc" not defined/);
});

test('values print like fmt %v', () => {
  assert.equal(printValue(true), 'true');
  assert.equal(printValue([1, 'a', null]), '[1 a <nil>]');
  assert.equal(printValue({ b: [1], a: { c: 'd' } }), 'map[a:map[c:d] b:[1]]');
  assert.equal(printValue(1.5), '1.5');
});

test('json for inspect keeps the struct field order the API sent and sorts only what Go holds in maps', () => {
  const c = {
    Id: 'x',
    Config: { Hostname: 'h', ExposedPorts: { '90/tcp': {}, '8080/tcp': {} }, Env: ['B=1', 'A=2'], Labels: { b: '2', a: '1' } },
    HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } } },
  };
  const inspect = (tmpl: string) => parseGoTemplate(tmpl, { jsonKeys: 'struct' }).execute(c);
  assert.equal(inspect('{{json .Config}}'), '{"Hostname":"h","ExposedPorts":{"8080/tcp":{},"90/tcp":{}},"Env":["B=1","A=2"],"Labels":{"a":"1","b":"2"}}');
  assert.equal(inspect('{{.HostConfig.LogConfig | json}}'), '{"Type":"json-file","Config":{"max-file":"2","max-size":"1m"}}');
  assert.equal(inspect('{{json .}}').slice(0, 24), '{"Id":"x","Config":{"Hos');
  // Rows of ps/images are Go maps in docker: sorted.
  assert.equal(render('{{json .}}', { Names: 'n', ID: 'i' }), '{"ID":"i","Names":"n"}');
});
