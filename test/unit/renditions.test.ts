/**
 * Renditions on the capture's side, without processes: sizes and decode reduction, the demand per
 * rendition (subscriptions and wake-ups on the in-memory bus), publishing per width, and the encoder
 * itself on a real JPEG (OpenCV is loaded: it is the code under test).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import pino from 'pino';
import type { Frame } from '../../bus/frame.js';
import { MemoryBus } from '../../bus/memory-bus.js';
import { Demand, type DemandState } from '../../capture/demand.js';
import { RenditionEncoder } from '../../capture/renditions/encoder.js';
import { RenditionPublisher } from '../../capture/publish/rendition-publisher.js';
import { reduceFactor, renditionsOf, renditionSize } from '../../capture/renditions/geometry.js';
import { jpegFrame } from '../../capture/source/kinds/frames.js';
import { inspectJpeg } from '../../capture/source/kinds/jpeg.js';
import { requireTool, sleep, waitFor } from '../../harness/procs.js';

const log = pino({ level: 'silent' });

test('a rendition keeps the picture aspect ratio with an even height, and is always narrower than the picture', () => {
  assert.deepEqual(renditionSize({ width: 1280, height: 720 }, 320), { width: 320, height: 180 });
  assert.deepEqual(renditionSize({ width: 1920, height: 1080 }, 640), { width: 640, height: 360 });
  assert.deepEqual(renditionSize({ width: 640, height: 480 }, 320), { width: 320, height: 240 });
  // 1280x720 -> 100 wide is 56.25 high: the nearest even number.
  assert.deepEqual(renditionSize({ width: 1280, height: 720 }, 100), { width: 100, height: 56 });
  assert.deepEqual(renditionSize({ width: 4000, height: 10 }, 16), { width: 16, height: 2 }, 'never below 2');
  assert.deepEqual(renditionsOf({ width: 1280, height: 720 }, [1280, 320, 640, 1920]), [320, 640]);
  assert.deepEqual(renditionsOf({ width: 320, height: 240 }, [320, 640]), []);
});

test('the JPEG is decoded as small as the widest rendition allows', () => {
  const hd = { width: 1280, height: 720 };
  assert.equal(reduceFactor(hd, { width: 320, height: 180 }), 4);
  assert.equal(reduceFactor(hd, { width: 640, height: 360 }), 2);
  assert.equal(reduceFactor(hd, { width: 160, height: 90 }), 8);
  assert.equal(reduceFactor(hd, { width: 1000, height: 562 }), 1);
  // 1920/4 = 480 >= 320, but 1080/4 = 270 < 300 (a stretched rendition): not far enough for the height.
  assert.equal(reduceFactor({ width: 1920, height: 1080 }, { width: 320, height: 300 }), 2);
  // libjpeg rounds a reduced size up: 1366/8 is 171 pixels.
  assert.equal(reduceFactor({ width: 1366, height: 768 }, { width: 171, height: 96 }), 8);
});

test('demand: a rendition is encoded while a gateway subscribes to it, and for the wake-up hold after a wake-up', async () => {
  const bus = new MemoryBus();
  const states: DemandState[] = [];
  const demand = new Demand({ bus, camera: 'cam0', log, widths: [320, 640], onChange: (s) => states.push(s), pollMs: 20, wakeHoldMs: 150 });
  await demand.start();
  assert.deepEqual(demand.state, { watching: false, renditions: [] }, 'nobody watches');
  const unsub = await bus.subscribe('cam0', () => undefined, 320);
  await waitFor('320 watched', () => demand.state.renditions.join() === '320', 1000, 5);
  assert.equal(demand.state.watching, true, 'a rendition viewer means full rate');
  await unsub();
  await waitFor('320 released', () => demand.state.renditions.length === 0, 1000, 5);
  assert.equal(demand.state.watching, false);

  // A snapshot's wake-up: encoded at once, without a subscriber, for the hold only.
  await bus.requestFrames('cam0', 640);
  assert.deepEqual(demand.state, { watching: true, renditions: [640] }, 'at once, not at the next poll');
  await sleep(60);
  assert.deepEqual(demand.state.renditions, [640], 'held past a poll');
  await waitFor('640 released after the hold', () => demand.state.renditions.length === 0, 1000, 5);

  // A width this capture does not encode is ignored; the camera's own wake-up is the idle wake-up.
  await bus.requestFrames('cam0', 480);
  assert.deepEqual(demand.state.renditions, []);
  await bus.requestFrames('cam0', null);
  assert.deepEqual(demand.state, { watching: true, renditions: [] });
  await demand.close();
  assert.ok(states.length >= 5, `each change reported once (${states.length})`);
});

const frameOf = (width: number, height: number, seq: number, jpeg: Buffer): Frame => ({ camera: 'cam0', seq, timestamp: Date.now(), width, height, jpeg });

test('renditions are published on their own channel and latest key, listed while watched, latest frame wins per width', async () => {
  const bus = new MemoryBus();
  const got: Frame[] = [];
  await bus.subscribe('cam0', (f) => got.push(f), 320);
  const pub = new RenditionPublisher({ bus, log, latestTtlMs: 1000, dropSameFrames: true, keepAliveMs: 1000, maxFrameBytes: 1024 });
  pub.setWatched([320]);
  const jpeg = (n: number): Buffer => Buffer.concat([Buffer.from([0xff, 0xd8, n]), Buffer.alloc(20), Buffer.from([0xff, 0xd9])]);
  pub.offerRendition(frameOf(320, 180, 1, jpeg(1)), 0.5);
  pub.offerRendition(frameOf(320, 180, 2, jpeg(2)), 0.5); // the first publish is still in flight
  await sleep(5);
  assert.deepEqual(
    got.map((f) => f.seq),
    [1],
  );
  assert.equal(pub.droppedBusy, 1);
  assert.equal((await bus.latest('cam0', 320))?.seq, 1);
  assert.equal(await bus.latest('cam0'), null, "the camera's own key is untouched");
  pub.offerRendition(frameOf(320, 180, 3, jpeg(1)), 0.5);
  await sleep(5);
  assert.equal(pub.droppedSame, 1, 'the same JPEG within the keep-alive is not sent again');
  pub.offerRendition(frameOf(320, 180, 4, Buffer.concat([jpeg(4), Buffer.alloc(2000)])), 0.5);
  assert.equal(pub.droppedTooBig, 1);
  pub.tick();
  assert.deepEqual(pub.list(), [{ width: 320, height: 180, fps: 1, lastFrameBytes: 25 }]);
  pub.setWatched([]);
  assert.deepEqual(pub.list(), [], 'not listed once nobody watches it');
  pub.setWatched([320]);
  assert.deepEqual(pub.list(), [], 'listed again only after a frame published since');
});

test('the encoder makes each watched rendition narrower than the picture, with the frame seq and timestamp, and skips frames while busy', async () => {
  requireTool('ffmpeg', 'sudo apt-get install -y ffmpeg');
  const r = spawnSync(
    'ffmpeg',
    ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=1', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2pipe', '-'],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  const out: Array<{ frame: Frame; encodeMs: number }> = [];
  const encoder = new RenditionEncoder({ camera: 'cam0', quality: 80, log, sink: { offerRendition: (frame, encodeMs) => out.push({ frame, encodeMs }) } });
  const published = { seq: 7, timestamp: 1234.5, width: 1280, height: 720 };
  const frame = jpegFrame(r.stdout, 1280, 720);
  await encoder.offer(frame, published, false);
  assert.equal(out.length, 0, 'nothing is watched: nothing encoded');
  encoder.setWidths([320, 640, 1280]);
  await encoder.offer(frame, published, false);
  await encoder.offer(frame, { ...published, seq: 8 }, false); // the first frame's renditions are still being made
  await waitFor('two renditions', () => out.length === 2, 5000, 5);
  await sleep(50);
  assert.equal(out.length, 2, '1280 is the picture itself: no rendition');
  assert.equal(encoder.skippedBusy, 1);
  assert.deepEqual(
    out.map((o) => [o.frame.width, o.frame.height, o.frame.seq, o.frame.timestamp]),
    [
      [320, 180, 7, 1234.5],
      [640, 360, 7, 1234.5],
    ],
  );
  for (const { frame: f } of out)
    assert.deepEqual([inspectJpeg(f.jpeg).width, inspectJpeg(f.jpeg).height], [f.width, f.height], 'the JPEG is the size announced');
});
