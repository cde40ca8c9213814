/**
 * Code, tests and docs say what they mean instead of pointing at a tracker: a number of an issue, a
 * pull request or a row of some list outside the repository means nothing to the next reader. Read from
 * the sources (TypeScript, JavaScript, C, shell, Markdown), not dist/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SKIP = new Set(['node_modules', 'dist', '.git', 'results']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.(ts|js|c|h|sh|md)$/.test(name) ? [file] : [];
  });
}

/**
 * "issue 11", "issues 13 and 15", "Owner#1333", and "#42" after a space or bracket. A CSS colour (#111;,
 * "#000") is not a reference: the last alternative skips hex digits that end at a ; or a quote.
 */
const REFERENCE = /\b(?:issues?|tickets?|PR)\s+#?\d+|\w#\d+\b|(?:^|[\s([])#\d{2,}\b(?![\da-fA-F]*[;"'])/im;

function referencesIn(text: string): string[] {
  return text
    .split('\n')
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => REFERENCE.test(line))
    .map(([line, n]) => `${n}: ${line.trim().slice(0, 100)}`);
}

test('the pattern finds references and leaves colours alone', () => {
  for (const hit of ['see issue 14', 'Issues 13 and 15', 'Motion#1333', 'fixed in (#42)', 'PR 7']) assert.equal(referencesIn(hit).length, 1, hit);
  for (const miss of ['--bg: #111;', 'fill="#1d1d1d"', "'#1f77b4'", '## Layout', '#include <stdio.h>', 'no serious issue'])
    assert.deepEqual(referencesIn(miss), [], miss);
});

test('no source file refers to an issue number', () => {
  // This file names references on purpose, to show what the pattern catches.
  const self = path.join(ROOT, 'test', 'unit', 'references.test.ts');
  const found = sources(ROOT)
    .filter((f) => f !== self)
    .flatMap((f) => referencesIn(readFileSync(f, 'utf8')).map((hit) => `${path.relative(ROOT, f)}:${hit}`));
  assert.deepEqual(found, []);
});
