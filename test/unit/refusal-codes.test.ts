/**
 * The refusal catalogue (gateway/http/refusals.ts), the README's table of refusal codes and the sources
 * agree: every code is documented and every entry is sent from somewhere; the page decides by codes and
 * never by a refusal's wording (which may be reworded without breaking it).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { catalogue, REFUSALS } from '../../gateway/http/refusals.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLIENT = path.join(ROOT, 'gateway', 'page', 'client');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return name.endsWith('.ts') ? [file] : [];
  });
}

const codes = [...new Set(catalogue().map((r) => r.code))];

/** Every string in a file: literals and the fixed parts of templates (comments are not strings). */
function stringsOf(file: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) out.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true));
  return out;
}

test('codes are stable snake_case words, and the reasons metrics counted before the catalogue kept their names', () => {
  for (const code of codes) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
  for (const label of ['auth', 'host', 'origin', 'operator_address', 'saturated', 'max_viewers', 'max_viewers_per_ip']) assert.ok(codes.includes(label), label);
});

test('the README table of refusal codes lists every code, and no code the catalogue lacks', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Refusal codes');
  assert.notEqual(start, -1, 'the README has a "Refusal codes" section');
  const rest = readme.slice(start + '### Refusal codes'.length);
  const section = rest.slice(0, rest.search(/^#/m));
  const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual([...new Set(documented)].sort(), [...codes].sort());
});

test('every catalogue entry is used by the gateway', () => {
  const text = sources(path.join(ROOT, 'gateway'))
    .filter((f) => !f.endsWith(path.join('http', 'refusals.ts')))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const unused = Object.keys(REFUSALS).filter((key) => !new RegExp(`\\bREFUSALS\\.${key}\\b`).test(text));
  assert.deepEqual(unused, []);
});

test('the page compares refusal codes, never refusal texts', () => {
  const files = sources(CLIENT);
  // A phrase of a refusal's text in the page's code would be the page matching on wording.
  const phrases = catalogue().map((r) => r.text);
  const wording = files.flatMap((f) =>
    stringsOf(f)
      .filter((s) => /\w\s+\w/.test(s) && phrases.some((p) => p.includes(s.trim())))
      .map((s) => `${path.basename(f)}: ${JSON.stringify(s)}`),
  );
  assert.deepEqual(wording, []);
  const compared = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bcode\s*[!=]==?\s*'([^']*)'/g)].map((m) => m[1]!));
  assert.ok(compared.length >= 2, 'the page decides by codes (camera_gone, nothing_to_ack)');
  assert.deepEqual(
    compared.filter((c) => !codes.includes(c)),
    [],
    'the codes the page compares are catalogue codes',
  );
});
