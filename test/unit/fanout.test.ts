/** Latest frame wins from the bus to the viewers: fan-out rounds in slices, and a viewer's one frame in flight. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { CameraHub } from '../../gateway/delivery/hub.js';
import { FanOut, Feed } from '../../gateway/delivery/fanout.js';
import { FramePacket } from '../../gateway/delivery/packet.js';
import { FakeViewer, flush, TestBus, testFrame } from '../helpers/in-memory.js';

/** A fan-out that yields to the event loop every 8 viewers (its finest grain). */
function tightFanOut(rounds: number[]): FanOut {
  return new FanOut({ sliceMs: 0, onRound: (_feed, ms) => rounds.push(ms) });
}

function feedWith(n: number): { feed: Feed; viewers: FakeViewer[] } {
  const feed = new Feed('cam');
  const viewers = Array.from({ length: n }, () => new FakeViewer('cam'));
  for (const v of viewers) feed.viewers.add(v);
  return { feed, viewers };
}

const packet = (seq: number, placeholder = false): FramePacket => new FramePacket(testFrame('cam', seq), placeholder);

test('an idle fan-out hands a frame to the first viewers at once, the rest in later slices', async () => {
  const rounds: number[] = [];
  const fanout = tightFanOut(rounds);
  const { feed, viewers } = feedWith(20);
  fanout.push(feed, packet(1));
  assert.equal(viewers.filter((v) => v.got.length === 1).length, 8, 'one slice: 8 viewers, then the event loop gets a turn');
  assert.ok(fanout.busy);
  await flush();
  assert.ok(!fanout.busy);
  assert.ok(viewers.every((v) => v.seqs.join() === '1'));
  assert.equal(rounds.length, 1);
  assert.equal(feed.superseded, 0);
});

test('a frame arriving mid-round replaces the older one for the viewers not reached yet; the others get it in a new round', async () => {
  const rounds: number[] = [];
  const fanout = tightFanOut(rounds);
  const { feed, viewers } = feedWith(20);
  fanout.push(feed, packet(1));
  fanout.push(feed, packet(2)); // before the next slice: frame 1 has reached 8 of 20 viewers
  await flush();
  assert.deepEqual(
    viewers.slice(0, 8).map((v) => v.seqs.join()),
    Array(8).fill('1,2'),
    'reached early: the old frame, then the new one',
  );
  assert.deepEqual(
    viewers.slice(8).map((v) => v.seqs.join()),
    Array(12).fill('2'),
    'not reached yet: only the new frame',
  );
  assert.equal(feed.superseded, 1, 'frame 1 never reached every viewer');
  assert.equal(rounds.length, 2);
  // Three frames within one slice: only the newest goes on; both older ones are counted.
  fanout.push(feed, packet(3));
  fanout.push(feed, packet(4));
  fanout.push(feed, packet(5));
  await flush();
  assert.ok(viewers.slice(8).every((v) => v.seqs.join() === '2,5'));
  assert.ok(viewers.slice(0, 8).every((v) => v.seqs.join() === '1,2,3,5'));
  assert.equal(feed.superseded, 3);
});

test('a NO SIGNAL placeholder replaced by a camera frame is not counted as superseded', async () => {
  const fanout = tightFanOut([]);
  const { feed, viewers } = feedWith(20);
  fanout.push(feed, packet(1, true));
  fanout.push(feed, packet(2));
  await flush();
  assert.equal(feed.superseded, 0);
  assert.ok(viewers.every((v) => v.seqs.at(-1) === 2));
});

test('cameras take turns: a camera with many viewers does not hold back another one', async () => {
  const fanout = tightFanOut([]);
  const big = feedWith(40);
  const small = new Feed('other');
  const one = new FakeViewer('other');
  small.viewers.add(one);
  fanout.push(big.feed, packet(1));
  fanout.push(small, new FramePacket(testFrame('other', 1)));
  let slices = 1;
  while (one.got.length === 0 && slices < 10) {
    await new Promise((r) => setImmediate(r));
    slices++;
  }
  assert.deepEqual(one.seqs, [1]);
  const reached = big.viewers.filter((v) => v.got.length === 1).length;
  assert.ok(reached < 40, `served after ${slices} slices, while the big camera was still being handed out (${reached} of 40 reached)`);
  await flush(10);
  assert.ok(big.viewers.every((v) => v.got.length === 1));
});

test('through the hub: frames arriving faster than a round count as superseded in /api/stats', async () => {
  const bus = new TestBus();
  const hub = new CameraHub({
    bus,
    log: pino({ level: 'silent' }),
    liveTimeoutMs: 3000,
    unsubscribeLingerMs: 100,
    stallCloseMs: 30_000,
    fanoutSliceMs: 0,
    maxFrameBytes: 1 << 20,
    maxClockSkewMs: 5000,
    lateFrameMs: 1000,
    cameraGoneMs: 60_000,
    renditionWidths: [],
  });
  try {
    const viewers = Array.from({ length: 20 }, () => new FakeViewer('cam'));
    for (const v of viewers) await hub.watch(v);
    void bus.publish(testFrame('cam', 1), 5000);
    void bus.publish(testFrame('cam', 2), 5000);
    await flush();
    const [feed] = hub.stats().cameras as Array<{ framesReceived: number; superseded: number }>;
    assert.deepEqual({ received: feed!.framesReceived, superseded: feed!.superseded }, { received: 2, superseded: 1 });
    assert.ok(
      viewers.every((v) => v.seqs.at(-1) === 2),
      'every viewer ends on the newest frame',
    );
    assert.equal(hub.totals().get('cam')!.superseded, 1);
  } finally {
    hub.close();
  }
});

test('a viewer whose transport is busy keeps only the newest frame waiting; the ones it replaces are dropped', () => {
  const v = new FakeViewer('cam');
  v.hold = true;
  v.offer(packet(1));
  v.offer(packet(2));
  v.offer(packet(3));
  assert.deepEqual(v.seqs, [1], 'one frame in flight');
  assert.equal(v.dropped, 1, 'frame 2 was replaced by 3 while waiting');
  v.take();
  assert.deepEqual(v.seqs, [1, 3]);
  v.take();
  assert.equal(v.delivered, 2);
  assert.equal(v.offered, 3);
  v.hold = false;
  v.offer(packet(4));
  assert.deepEqual(v.seqs, [1, 3, 4], 'a free transport sends at once');
});

test('a viewer with an fps cap skips frames beyond it, counted as capped', () => {
  const v = new FakeViewer('cam', { maxFps: 1 });
  for (let i = 1; i <= 5; i++) v.offer(packet(i));
  assert.deepEqual(v.seqs, [1]);
  assert.equal(v.capped, 4);
});
