/** gateway/delivery/late-frames.ts: a replayed burst is late, a constant clock offset is not, a lasting change is accepted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LateFrames } from '../../gateway/delivery/late-frames.js';

/** Frames every 100 ms arriving `transit` ms after capture; returns which were late. */
function feed(late: LateFrames, from: number, count: number, transit: (i: number) => number): boolean[] {
  return Array.from({ length: count }, (_, i) => {
    const captured = from + i * 100;
    return late.late(captured, captured + transit(i));
  });
}

test('a constant clock offset (capture 3 s behind or ahead) never makes a frame late', () => {
  assert.ok(!feed(new LateFrames(1000), 0, 50, () => 3000).some(Boolean));
  assert.ok(!feed(new LateFrames(1000), 0, 50, () => -3000).some(Boolean));
});

test('a replica that stalled 2 s replays its backlog at once: those frames are late, the live ones after are not', () => {
  const late = new LateFrames(1000);
  feed(late, 0, 30, () => 5);
  // Captured 3000–4900 ms, all delivered at 5000 ms when the replica wakes up, then live again.
  const burst = Array.from({ length: 20 }, (_, i) => late.late(3000 + i * 100, 5000));
  assert.deepEqual(
    burst.map((l, i) => [3000 + i * 100, l]).filter(([, l]) => l).length,
    10,
    'frames more than 1 s old at arrival (3000–3900) are late; 4000–4900 are within 1 s',
  );
  assert.ok(!feed(late, 5000, 10, () => 5).some(Boolean), 'live frames after the burst');
});

test('late for longer than a burst can be (a clock stepped back 5 s): accepted after 2 s, never dark for good', () => {
  const late = new LateFrames(1000);
  feed(late, 0, 30, () => 5);
  const after = feed(late, 3000, 50, () => 5005);
  assert.ok(after.slice(0, 15).every(Boolean), 'the first 1.5 s are dropped');
  assert.ok(
    after.slice(25).every((l) => !l),
    'from about 2 s on they are shown',
  );
});

test('LATE_FRAME_MS=0 turns it off', () => {
  const late = new LateFrames(0);
  feed(late, 0, 10, () => 5);
  assert.equal(late.late(0, 10000), false);
});
