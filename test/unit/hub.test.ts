/** CameraHub on the in-memory bus: subscriptions follow viewers, a new viewer gets the freshest frame, NO SIGNAL. */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import pino from 'pino';
import { isJpeg } from '../../bus/frame.js';
import { CameraHub } from '../../gateway/delivery/hub.js';
import { PLACEHOLDER_SIZE } from '../../gateway/no-signal/placeholder.js';
import { FakeViewer, flush, sleep, TestBus, testFrame } from '../helpers/in-memory.js';

const LINGER_MS = 150;
const LIVE_MS = 300;
const hubs: CameraHub[] = [];

function newHub(bus: TestBus, o: { maxFrameBytes?: number } = {}): CameraHub {
  const hub = new CameraHub({
    bus,
    log: pino({ level: 'silent' }),
    liveTimeoutMs: LIVE_MS,
    unsubscribeLingerMs: LINGER_MS,
    // Sweeps (stalls, NO SIGNAL, gone cameras) every 50 ms.
    stallCloseMs: 100,
    maxFrameBytes: o.maxFrameBytes ?? 1024 * 1024,
    maxClockSkewMs: 5000,
    lateFrameMs: 1000,
    cameraGoneMs: 60_000,
    renditionWidths: [320, 640, 1280],
  });
  hubs.push(hub);
  return hub;
}

afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
});

test('the first viewer subscribes the camera and wakes its capture; later viewers share the subscription', async () => {
  const bus = new TestBus();
  const wakes: Array<number | null> = [];
  await bus.onFramesRequested('cam', (rendition) => wakes.push(rendition));
  const hub = newHub(bus);
  assert.equal(await bus.watchers('cam'), 0);
  await hub.watch(new FakeViewer('cam'));
  await hub.watch(new FakeViewer('cam'));
  await flush();
  assert.equal(bus.subscribeCalls, 1, 'one subscription for two viewers');
  assert.equal(await bus.watchers('cam'), 1);
  assert.deepEqual(wakes, [null], 'the capture is asked for frames once, for the full-size picture');
  await hub.watch(new FakeViewer('cam', { rendition: 320 }));
  await flush();
  assert.equal(bus.subscribeCalls, 2, 'a rendition is a feed of its own');
  assert.equal(await bus.watchers('cam', 320), 1);
  assert.deepEqual(wakes, [null, 320]);
  assert.equal(hub.viewerCount('cam'), 3);
});

test('the subscription lingers after the last viewer leaves, and a viewer coming back within it reuses it', async () => {
  const bus = new TestBus();
  const hub = newHub(bus);
  const a = new FakeViewer('cam');
  await hub.watch(a);
  hub.unwatch(a);
  await sleep(LINGER_MS / 3);
  assert.equal(await bus.watchers('cam'), 1, 'still subscribed during the linger');
  const b = new FakeViewer('cam');
  await hub.watch(b);
  await sleep(LINGER_MS + 100);
  assert.equal(await bus.watchers('cam'), 1, 'a viewer came back: the linger was cancelled');
  assert.equal(bus.subscribeCalls, 1, 'no second subscribe (a page reload costs nothing)');
  hub.unwatch(b);
  hub.unwatch(b); // twice is harmless
  await sleep(LINGER_MS + 100);
  assert.equal(await bus.watchers('cam'), 0, 'unsubscribed once the linger passed');
  assert.deepEqual((hub.stats().cameras as unknown[]).length, 0, 'the feed is gone from /api/stats');
});

test('a new viewer gets the latest frame at once: from the bus before the subscription, from memory after', async () => {
  const bus = new TestBus();
  const hub = newHub(bus);
  await bus.publish(testFrame('cam', 1), 5000);
  const first = new FakeViewer('cam');
  await hub.watch(first);
  assert.deepEqual(first.seqs, [1], 'the latest frame stored on the bus, before any live one');
  await bus.publish(testFrame('cam', 2), 5000);
  await flush();
  assert.deepEqual(first.seqs, [1, 2], 'then the live frames');
  const reads = bus.latestCalls;
  const second = new FakeViewer('cam');
  await hub.watch(second);
  assert.deepEqual(second.seqs, [2], 'the newest frame, handed over without waiting for the next one');
  assert.equal(bus.latestCalls, reads, 'from memory: the bus was not asked');
  // A frame older than LIVE_TIMEOUT_MS is no live picture: not shown, and no snapshot.
  await bus.publish(testFrame('old', 1, { timestamp: Date.now() - LIVE_MS - 100 }), 5000);
  const third = new FakeViewer('old');
  await hub.watch(third);
  assert.deepEqual(third.seqs, []);
  assert.equal(await hub.snapshot('old'), null);
  assert.equal((await hub.snapshot('cam'))?.frame.seq, 2);
});

test('a frame from the bus never takes a viewer backwards', async () => {
  const bus = new TestBus();
  const hub = newHub(bus);
  const v = new FakeViewer('cam');
  await hub.watch(v);
  await bus.publish(testFrame('cam', 5), 5000);
  await flush();
  const moved = new FakeViewer('cam');
  await hub.watch(moved);
  // Offered the same packet again (as a late latest-frame read would): ignored.
  await hub.watch(v);
  assert.deepEqual(v.seqs, [5]);
  assert.deepEqual(moved.seqs, [5]);
});

test('viewers of a camera without live frames get a NO SIGNAL picture, and live frames again when they return', async () => {
  const bus = new TestBus();
  const hub = newHub(bus);
  const dark = new FakeViewer('dark');
  await hub.watch(dark);
  await sleep(LIVE_MS / 2);
  assert.deepEqual(dark.seqs, [], 'a feed just created has had no time to receive a frame: no placeholder yet');
  await sleep(LIVE_MS + 150);
  assert.ok(dark.seqs.length >= 1 && dark.seqs.every((s) => s === 'P'), `placeholders only: ${dark.seqs.join(',')}`);
  const placeholder = dark.got[0]!;
  assert.equal(placeholder.frame.width, PLACEHOLDER_SIZE.width);
  assert.ok(isJpeg(placeholder.frame.jpeg));
  assert.match(placeholder.part('classic').toString('latin1', 0, 300), /nosignal/, 'the JPEG comment says so');

  const v = new FakeViewer('cam');
  await hub.watch(v);
  await bus.publish(testFrame('cam', 1), 5000);
  await flush();
  await sleep(LIVE_MS + 150);
  assert.equal(v.seqs[0], 1);
  assert.ok(v.seqs.slice(1).includes('P'), `the frames stopped: NO SIGNAL follows (${v.seqs.join(',')})`);
  await bus.publish(testFrame('cam', 2), 5000);
  await flush();
  assert.equal(v.seqs.at(-1), 2, 'a placeholder never holds back the next camera frame');
  assert.equal((await hub.snapshot('cam'))?.placeholder, false, 'snapshots are camera frames, never the placeholder');
});

test('frames refused by the ingest check reach no viewer, live or from the latest key', async () => {
  const bus = new TestBus();
  const hub = newHub(bus, { maxFrameBytes: 100 });
  await bus.publish(testFrame('cam', 1, { payload: Buffer.alloc(200) }), 5000);
  const v = new FakeViewer('cam');
  await hub.watch(v);
  await bus.publish(testFrame('cam', 2, { timestamp: Date.now() + 60_000 }), 5000);
  await bus.publish(testFrame('cam', 3, { payload: Buffer.from('x--camfanframe\r\n') }), 5000);
  await bus.publish(testFrame('cam', 4), 5000);
  await flush();
  assert.deepEqual(v.seqs, [4]);
  assert.deepEqual(hub.check.rejected, { too_large: 1, future: 1, boundary: 1 });
  const [feed] = hub.stats().cameras as Array<{ framesReceived: number }>;
  assert.equal(feed!.framesReceived, 1, 'refused frames are not counted as received');
});

test('move: an adapting viewer changes feed and gets the new picture at once', async () => {
  const bus = new TestBus();
  const hub = newHub(bus);
  await bus.publish(testFrame('cam', 1, { width: 320 }), 5000, 320);
  const v = new FakeViewer('cam');
  await hub.watch(v);
  await hub.move(v, 320);
  assert.equal(v.rendition, 320);
  assert.deepEqual(v.seqs, [1]);
  assert.equal(hub.viewerCount('cam'), 1);
  await sleep(LINGER_MS + 100);
  assert.equal(await bus.watchers('cam'), 0, 'the full-size feed was released');
  assert.equal(await bus.watchers('cam', 320), 1);
});
