/** capture/publish/publisher.ts on the in-memory bus: one publish in flight, every drop counted, the camera announced. */
import assert from 'node:assert/strict';
import { afterEach, mock, test } from 'node:test';
import pino from 'pino';
import type { Logger } from '../../lib/log.js';
import { Publisher, type PublisherOptions } from '../../capture/publish/publisher.js';
import { captureLog, flush, TestBus, testFrame } from '../helpers/in-memory.js';

const publishers: Publisher[] = [];

function newPublisher(bus: TestBus, o: Partial<PublisherOptions> & { log?: Logger } = {}): Publisher {
  const p = new Publisher({
    bus,
    log: pino({ level: 'silent' }),
    latestTtlMs: 3000,
    dropSameFrames: false,
    keepAliveMs: 1000,
    maxFrameBytes: 1024,
    info: { camera: 'cam', source: 'test pattern', width: 0, height: 0, targetFps: 30 },
    idleFps: 1,
    cameraGoneMs: 60_000,
    ...o,
  });
  publishers.push(p);
  return p;
}

afterEach(() => {
  for (const p of publishers.splice(0)) p.close();
});

test('at most one publish in flight: a frame arriving while Redis is busy is dropped, never queued', async () => {
  const bus = new TestBus();
  bus.holdPublishes = true;
  const p = newPublisher(bus);
  p.offer(testFrame('cam', 1), 2);
  p.offer(testFrame('cam', 2), 2);
  p.offer(testFrame('cam', 3), 2);
  assert.equal(bus.publishCalls, 1);
  assert.equal(p.droppedBusy, 2);
  assert.equal(p.published, 0, 'not counted before Redis answered');
  bus.release();
  await flush();
  assert.equal(p.published, 1);
  assert.equal((await bus.latest('cam'))?.seq, 1);
  p.offer(testFrame('cam', 4), 2);
  assert.equal(bus.publishCalls, 2, 'the next frame goes once the publish in flight is done');
  bus.release();
  await flush();
  assert.equal(p.published, 2);
  assert.equal((await bus.latest('cam'))?.seq, 4);
});

test('while Redis is down frames are dropped and counted; the outage and the recovery are logged once each', async () => {
  const bus = new TestBus();
  const { log, messages } = captureLog();
  const p = newPublisher(bus, { log });
  bus.failing = true;
  for (let seq = 1; seq <= 3; seq++) {
    p.offer(testFrame('cam', seq), null);
    await flush();
  }
  assert.equal(p.droppedDown, 3);
  assert.equal(p.published, 0);
  assert.equal(messages(/cannot publish to Redis/).length, 1);
  bus.failing = false;
  p.offer(testFrame('cam', 4), null);
  await flush();
  assert.equal(p.published, 1);
  const back = messages(/publishing again/);
  assert.equal(back.length, 1);
  assert.equal(back[0]!.droppedWhileDown, 3);
});

test('a JPEG over MAX_FRAME_BYTES is dropped before Redis, counted, and logged once with what to change', async () => {
  const bus = new TestBus();
  const { log, messages } = captureLog();
  const p = newPublisher(bus, { log, maxFrameBytes: 100 });
  p.offer(testFrame('cam', 1, { payload: Buffer.alloc(200) }), 5);
  p.offer(testFrame('cam', 2, { payload: Buffer.alloc(200) }), 5);
  p.offer(testFrame('cam', 3, { payload: Buffer.alloc(96) }), 5);
  await flush();
  assert.equal(p.droppedTooBig, 2);
  assert.equal(bus.publishCalls, 1, 'only the frame within the limit reached the bus');
  const logged = messages(/larger than MAX_FRAME_BYTES/);
  assert.equal(logged.length, 1);
  assert.match(logged[0]!.msg, /JPEG_QUALITY/);
});

test('DROP_SAME_FRAMES: an unchanged picture is published once per KEEPALIVE_MS', async () => {
  const bus = new TestBus();
  const p = newPublisher(bus, { dropSameFrames: true, keepAliveMs: 1000 });
  const t0 = Date.now();
  const same = Buffer.from('static scene');
  for (const [seq, dt] of [
    [1, 0],
    [2, 100],
    [3, 900],
    [4, 1000],
    [5, 1100],
  ] as const) {
    p.offer(testFrame('cam', seq, { timestamp: t0 + dt, payload: same }), 1);
    await flush();
  }
  p.offer(testFrame('cam', 6, { timestamp: t0 + 1200, payload: Buffer.from('something moved') }), 1);
  await flush();
  assert.equal(p.droppedSame, 3, 'frames 2, 3 and 5');
  assert.equal(p.published, 3, 'frame 1, frame 4 a keep-alive later, and the changed frame 6');
  const off = newPublisher(new TestBus());
  off.offer(testFrame('cam', 1, { timestamp: t0, payload: same }), 1);
  await flush();
  off.offer(testFrame('cam', 2, { timestamp: t0 + 10, payload: same }), 1);
  await flush();
  assert.equal(off.published, 2, 'DROP_SAME_FRAMES=off publishes every frame');
});

test('the camera is announced at start, at its first frame with the frame size, and when its mode changes', async () => {
  const bus = new TestBus();
  const p = newPublisher(bus);
  await flush();
  let [info] = await bus.cameras();
  const before = [info!.camera, info!.width, info!.lastFrameAt, info!.encodeMsP50, info!.mode];
  assert.deepEqual(before, ['cam', 0, 0, null, undefined], 'listed before any frame');
  p.setMode('transcode');
  p.offer(testFrame('cam', 1, { width: 320 }), 4);
  await flush();
  [info] = await bus.cameras();
  assert.equal(info!.width, 320, 'the size of the frames actually published');
  assert.ok(info!.lastFrameAt > 0);
  assert.equal(info!.mode, 'transcode');
  assert.equal(info!.encodeMsP50, 4);
  p.idle = true;
  p.setMode('passthrough');
  await flush();
  [info] = await bus.cameras();
  assert.deepEqual([info!.mode, info!.idle, info!.encodeMsP50], ['passthrough', true, null], 'encode times of the other mode are forgotten');
});

test('encodeMedianMs: the median of the last 60 encode times', () => {
  const p = newPublisher(new TestBus(), { maxFrameBytes: 1 });
  for (const ms of [5, 1, 3]) p.offer(testFrame('cam', 1), ms);
  assert.equal(p.encodeMedianMs(), 3);
  for (let i = 0; i < 60; i++) p.offer(testFrame('cam', 1), 10);
  assert.equal(p.encodeMedianMs(), 10, 'older ones fall out');
});

test('LATEST_EVERY_MS: every frame is published, the latest-frame key is written at most that often', async () => {
  const bus = new TestBus();
  const got: number[] = [];
  await bus.subscribe('cam', (f) => got.push(f.seq));
  const p = newPublisher(bus, { latestEveryMs: 1000 });
  const t0 = Date.now();
  // 30 fps for 2.1 s of capture time: keys at 0, 1000 and 2000 ms.
  for (let seq = 0; seq <= 63; seq++) {
    p.offer(testFrame('cam', seq, { timestamp: t0 + Math.round((seq * 1000) / 30) }), 2);
    await flush();
    const expected = seq < 30 ? 0 : seq < 60 ? 30 : 60;
    assert.equal((await bus.latest('cam'))?.seq, expected, `the key after frame ${seq}`);
  }
  assert.equal(got.length, 64, 'every frame on the channel');
});

test("the camera's entry expires CAMERA_GONE_MS + 5 s after its last announcement (a dead capture leaves none behind)", async () => {
  mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 });
  try {
    const bus = new TestBus();
    newPublisher(bus, { cameraGoneMs: 3000 }).close();
    mock.timers.tick(7999);
    assert.equal((await bus.cameras()).length, 1, 'still listed 7999 ms after');
    mock.timers.tick(2);
    assert.equal((await bus.cameras()).length, 0, 'gone after 8000 ms');
  } finally {
    mock.timers.reset();
  }
});
