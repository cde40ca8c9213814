/**
 * Each setting and each shared limit has one declaration: a setting both processes take lives in
 * lib/settings.ts (commonSettings) and is listed once in docs/settings.md; the size and rate bounds live in
 * lib/limits.json and every check reads them from there (lib/ids.ts LIMITS). Read from the sources.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { captureSettings } from '../../capture/config.js';
import { gatewaySettings } from '../../gateway/config.js';
import { LIMITS } from '../../lib/ids.js';
import type { Setting } from '../../lib/settings.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.(ts|mts|js|json)$/.test(name) ? [file] : [];
  });
}

const code = ['bus', 'capture', 'gateway', 'lib'].flatMap((f) => sources(path.join(ROOT, f)));
const relative = (f: string): string => path.relative(ROOT, f);

const repeated = (names: string[]): string[] => [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];

test('a setting both processes take is one declaration, not two that may drift apart', () => {
  const byEnv = new Map<string, Set<Setting<unknown>>>();
  for (const s of [...Object.values(captureSettings), ...Object.values(gatewaySettings)] as Setting<unknown>[]) {
    byEnv.set(s.env, (byEnv.get(s.env) ?? new Set()).add(s));
  }
  assert.deepEqual(
    [...byEnv].filter(([, declared]) => declared.size > 1).map(([env]) => env),
    [],
  );
  // The same, as written: a second `env: 'X'` anywhere would be a second declaration even if unused.
  const declared = code.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\benv: '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
  assert.ok(declared.includes('MAX_FRAME_BYTES') && declared.includes('PORT'), 'the scan finds the declarations');
  assert.deepEqual(repeated(declared), []);
});

test('docs/settings.md lists each setting once', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'settings.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
  assert.ok(rows.length >= Object.keys(gatewaySettings).length, 'the scan finds the rows');
  assert.deepEqual(repeated(rows), []);
});

test('the width, height and fps bounds are written only in lib/limits.json', () => {
  const { width, height, renditionWidth, fps } = LIMITS;
  const literals = [
    ...[width.max, height.max, renditionWidth.max].map((n) => new RegExp(`\\b${n}\\b`)),
    // A range written out: (16, 8192), "1 to 120", 1–120.
    ...[width, height, renditionWidth, fps].map((b) => new RegExp(`\\b${b.min}\\s*(?:,|to|–|-)\\s*${b.max}\\b`)),
  ];
  const limitsFile = path.join(ROOT, 'lib', 'limits.json');
  assert.ok(
    literals.some((re) => re.test(readFileSync(limitsFile, 'utf8'))),
    'the patterns match the declaration itself',
  );
  const offenders = code
    .filter((f) => f !== limitsFile)
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (literals.some((re) => re.test(line)) ? [`${relative(f)}:${i + 1}: ${line.trim()}`] : [])),
    );
  assert.deepEqual(offenders, []);
});
