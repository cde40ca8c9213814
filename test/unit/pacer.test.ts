import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer } from '../../lib/pacer.js';

test('slots stay on the grid whatever each frame cost (no drift)', async () => {
  let t = 0;
  const pacer = new Pacer(10, () => t);
  const due: number[] = [];
  for (let i = 0; i < 5; i++) {
    // each frame takes a ragged 37 ms; the live clock still admits one frame per 100 ms slot
    for (let k = 0; k < 3; k++) {
      if (pacer.take()) due.push(t);
      t += 37;
    }
  }
  // slot k admits the first frame at or after k*100 - 50 ms
  assert.deepEqual(due, [0, 74, 185, 259, 370, 481]);
});

test('falling far behind skips missed slots instead of bursting', () => {
  let t = 0;
  const pacer = new Pacer(10, () => t);
  assert.equal(pacer.take(), true);
  t = 1000; // a 1 s hiccup
  assert.equal(pacer.take(), true);
  assert.equal(pacer.take(), false, 'no catch-up burst');
  assert.ok(pacer.skipped >= 8);
});

test('a 30 fps source at a 30 fps target keeps every frame despite jitter', () => {
  let t = 0;
  const pacer = new Pacer(30, () => t);
  let kept = 0;
  for (let i = 0; i < 300; i++) {
    t = i * (1000 / 30) + (i % 2 ? 5 : -5);
    if (pacer.take()) kept++;
  }
  assert.equal(kept, 300);
});
