/**
 * The shape the code keeps: no import circle between modules, no source file over 300 lines, and no
 * source that points outside the repository. Read from the TypeScript sources, not dist/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FOLDERS = ['bus', 'capture', 'gateway', 'lib', 'bench', 'harness', 'scripts', 'test'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.(ts|mts|js)$/.test(name) ? [file] : [];
  });
}

const files = FOLDERS.flatMap((f) => sources(path.join(ROOT, f)));

const known = new Set(files);

/**
 * Relative imports of a file, as source paths (.js in an import names the .ts next to it). Every form that
 * ties two modules together counts: import and export … from (type-only too, over several lines), a bare
 * import, a dynamic import() and a CommonJS require(). Only imports that start a line count (a commented-out one does not),
 * except import() and require(), which count wherever they stand.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const forms = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.[^'"]+)['"]/gm,
    /^\s*import\s*['"](\.[^'"]+)['"]/gm,
    /\b(?:import|require)\(\s*['"](\.[^'"]+)['"]\s*\)/g,
  ];
  return forms.flatMap((re) => [...text.matchAll(re)].map((m) => resolveImport(file, m[1]!))).filter((p): p is string => p !== null);
}

function resolveImport(file: string, spec: string): string | null {
  const p = path.resolve(path.dirname(file), spec);
  return [p.replace(/\.js$/, '.ts'), p.replace(/\.mjs$/, '.mts'), p, `${p}.ts`, `${p}.js`].find((c) => known.has(c)) ?? null;
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

const inside = (p: string, dir: string): boolean => p === path.join(ROOT, dir) || p.startsWith(path.join(ROOT, dir) + path.sep);

/** Imports by the files in folder `from` whose target passes `to`, as "file -> target" (relative to ROOT). */
function importsOut(from: string, to: (target: string) => boolean): string[] {
  return files
    .filter((f) => inside(f, from))
    .flatMap((f) => importsOf(f).map((target) => [f, target] as const))
    .filter(([, target]) => to(target))
    .map(([f, target]) => `${path.relative(ROOT, f)} -> ${path.relative(ROOT, target)}`);
}

// A new kind of source touches only its folder (kinds/source.ts): kinds/ leans on lib/ and on the
// messages of the source process, not on the rest of the capture.
test('capture/source/kinds imports nothing of the capture outside itself', () => {
  const allowed = ['capture/source/kinds', 'lib', 'capture/source/protocol.ts'];
  assert.deepEqual(
    importsOut('capture/source/kinds', (target) => !allowed.some((dir) => inside(target, dir))),
    [],
  );
});

// What the tests and the bench both need (processes, clients, the part reader, the soak, statistics)
// lives in harness/: a change to a benchmark cannot break a test, nor a test helper a benchmark.
test('bench/ and test/ do not import each other', () => {
  const crossing = [...importsOut('bench', (target) => inside(target, 'test')), ...importsOut('test', (target) => inside(target, 'bench'))];
  assert.deepEqual(crossing, []);
});

test('no source file over 300 lines', () => {
  const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > 301).map((f) => path.relative(ROOT, f));
  assert.deepEqual(long, []);
});

test('no source file refers outside the repository', () => {
  const outside = files.filter((f) => /\.\.\/shared\/|anchors\.md/.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
  assert.deepEqual(outside, []);
});

// README's "Layout" is the newcomer's map: every folder of the tree is on it, and every file it names is there.
test("README's Layout names every source folder, and every file it names exists", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const layout = /## Layout\n+```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.ok(layout.length > 0, 'README has a Layout block');
  // Folders git ignores (a benchmark's last results, say) are not part of the tree a newcomer clones.
  const ignored = new Set(['bench/results/last']);
  const folders = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir))
      .filter((name) => statSync(path.join(ROOT, dir, name)).isDirectory() && !ignored.has(`${dir}/${name}`))
      .flatMap((name) => [`${dir}/${name}`, ...folders(`${dir}/${name}`)]);
  const missing = FOLDERS.flatMap((top) => [top, ...folders(top)]).filter((dir) => !layout.includes(`${path.basename(dir)}/`));
  assert.deepEqual(missing, [], 'folders missing from the Layout');
  const named = [...layout.matchAll(/\b([a-z]+(?:\/[a-z0-9.-]+)+\.(?:ts|mts|js|c|json|conf|md|sh))\b/g)].map((m) => m[1]!);
  assert.deepEqual(
    named.filter((f) => !statSync(path.join(ROOT, f), { throwIfNoEntry: false })),
    [],
    'paths in the Layout that do not exist',
  );
});
