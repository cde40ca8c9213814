/** The README's endpoint table and the gateway's route table name the same paths, so that the docs cannot drift. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROUTES } from '../../gateway/http/routes.js';

const README = path.resolve(__dirname, '..', '..', '..', 'README.md');

test('every GET route is in the README endpoint table, and the table names no route the gateway lacks', () => {
  const documented = [...readFileSync(README, 'utf8').matchAll(/^\| `GET (\/[^`]*)` \|/gm)].map((m) => m[1]!);
  const served = [...ROUTES.map((r) => r.path), '/ws'];
  assert.deepEqual([...new Set(documented)].sort(), served.sort());
});
