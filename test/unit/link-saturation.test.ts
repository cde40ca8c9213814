/**
 * The link half of capacity: which connections back up (delivery/backlog.ts, on viewers whose transport
 * holds a frame as a full socket would) and when that makes the host's link full (ops/link.ts): a share,
 * smoothed, with a minimum number of connections and hysteresis.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKED_UP_WINDOW_MS, countBacklog } from '../../gateway/delivery/backlog.js';
import { FramePacket } from '../../gateway/delivery/packet.js';
import { HYSTERESIS, LinkSaturation, MIN_BACKED_UP } from '../../gateway/ops/link.js';
import { FakeViewer, testFrame } from '../helpers/in-memory.js';

/** Feeds `samples` samples of `backedUp` out of `connections`; returns whether the link was full after each. */
function run(link: LinkSaturation, samples: number, backedUp: number, connections: number): boolean[] {
  return Array.from({ length: samples }, () => {
    link.sample({ connections, backedUp });
    return link.saturated;
  });
}

test('one slow viewer, or a few, is never a full link, whatever their share', () => {
  const link = new LinkSaturation(0.5);
  assert.deepEqual(run(link, 20, 1, 1), Array(20).fill(false), 'the only viewer, backed up: a slow client');
  assert.deepEqual(run(link, 20, 1, 10), Array(20).fill(false), 'one of ten');
  assert.deepEqual(run(link, 20, MIN_BACKED_UP - 1, MIN_BACKED_UP), Array(20).fill(false), 'fewer than the minimum, though most of them');
  assert.ok(link.share > 0.5, `the share itself is high (${link.share}), the minimum is what keeps it free`);
});

test('most connections backing up at once is a full link; it stays full until the share falls well below', () => {
  const link = new LinkSaturation(0.5);
  const filling = run(link, 4, 8, 10);
  assert.equal(filling[0], false, 'one sample is not enough (smoothed)');
  assert.equal(filling.at(-1), true, `full within a few samples: ${filling}`);
  // Hysteresis: a share between the threshold and HYSTERESIS below it keeps the state.
  const between = 0.5 - HYSTERESIS / 2;
  assert.deepEqual(run(link, 20, between * 10, 10), Array(20).fill(true), `still full at a share of ${between}`);
  const clearing = run(link, 10, 1, 10);
  assert.equal(clearing.at(-1), false, `free again once one of ten backs up: ${clearing}`);
  // And from below: the same in-between share does not make a free link full.
  assert.deepEqual(run(link, 20, between * 10, 10), Array(20).fill(false));
});

test('a full link is free again once the viewers leave', () => {
  const link = new LinkSaturation(0.5);
  run(link, 5, 12, 12);
  assert.equal(link.saturated, true);
  const leaving = run(link, 6, 0, 0);
  assert.equal(leaving.at(-1), false, `free once nobody watches: ${leaving}`);
});

/** Two viewers on one connection (as the cameras of one /ws socket are). */
class SharedViewer extends FakeViewer {
  constructor(
    camera: string,
    private readonly conn: object,
  ) {
    super(camera);
  }

  get connection(): object {
    return this.conn;
  }
}

test('a connection backs up when a frame arrives before its socket took the previous one; counted per connection', () => {
  const fast = new FakeViewer('cam');
  const slow = new FakeViewer('cam');
  slow.hold = true; // its transport keeps each frame in flight until take(): a socket that has not drained
  const socket = {};
  const wall = [new SharedViewer('a', socket), new SharedViewer('b', socket)];
  wall[0]!.hold = true;
  const all = [fast, slow, ...wall];
  let seq = 0;
  const offerAll = (): void => {
    seq++;
    for (const v of all) v.offer(new FramePacket(testFrame(v.camera, seq)));
  };
  offerAll();
  assert.deepEqual(countBacklog(all, performance.now()), { connections: 3, backedUp: 0 }, 'one frame in flight is not a backlog');
  offerAll();
  assert.deepEqual(countBacklog(all, performance.now()), { connections: 3, backedUp: 2 }, 'the slow viewer and the socket with the wall');
  // Drained and nothing waits since: no longer backed up once the window has passed.
  slow.take();
  wall[0]!.take();
  assert.deepEqual(countBacklog(all, performance.now() + BACKED_UP_WINDOW_MS), { connections: 3, backedUp: 0 });
  // A frame capped by ?fps never waits, so it never counts.
  const capped = new FakeViewer('cam', { maxFps: 1 });
  capped.hold = true;
  capped.offer(new FramePacket(testFrame('cam', 100)));
  capped.offer(new FramePacket(testFrame('cam', 101)));
  assert.deepEqual(countBacklog([capped], performance.now()), { connections: 1, backedUp: 0 });
});
