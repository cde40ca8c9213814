/**
 * The shape the code keeps: no import circle between modules, no source file over 300 lines, and no
 * source that points outside the repository. Read from the TypeScript sources, not dist/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FOLDERS = ['bus', 'capture', 'gateway', 'lib', 'bench', 'scripts', 'test'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.(ts|mts|js)$/.test(name) ? [file] : [];
  });
}

const files = FOLDERS.flatMap((f) => sources(path.join(ROOT, f)));

/** Relative imports of a file, as source paths (.js in an import names the .ts next to it). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s[^;]*?from\s+'(\.[^']+)'/gm)]
    .map((m) =>
      path
        .resolve(path.dirname(file), m[1]!)
        .replace(/\.js$/, '.ts')
        .replace(/\.mjs$/, '.mts'),
    )
    .filter((p) => files.includes(p));
}

test('no import circle', () => {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (f: string, trail: string[]): void => {
    state.set(f, 'open');
    for (const next of graph.get(f) ?? []) {
      if (state.get(next) === 'open') circles.push([...trail.slice(trail.indexOf(next)), next].map((p) => path.relative(ROOT, p)).join(' -> '));
      else if (!state.has(next)) visit(next, [...trail, next]);
    }
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f, [f]);
  assert.deepEqual(circles, []);
});

test('no source file over 300 lines', () => {
  const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > 301).map((f) => path.relative(ROOT, f));
  assert.deepEqual(long, []);
});

test('no source file refers outside the repository', () => {
  const outside = files.filter((f) => /\.\.\/shared\/|anchors\.md/.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
  assert.deepEqual(outside, []);
});
