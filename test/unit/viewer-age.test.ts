/**
 * The age at the viewer on /metrics: a viewer's frame counts once its transport has it (FakeViewer stands
 * for an MJPEG response: the kernel took the part), the histogram gets its age, and the stale gauge counts
 * the viewers whose newest frame is older than the threshold, per camera.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import client from 'prom-client';
import { CameraHub } from '../../gateway/delivery/hub.js';
import { DeliveryTally, registerViewerAge } from '../../gateway/ops/viewer-age.js';
import { FakeViewer, flush, TestBus, testFrame } from '../helpers/in-memory.js';

const STALE_MS = 1000;

function sample(text: string, name: string, camera: string): number | null {
  const m = new RegExp(`^${name}\\{camera="${camera}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

test('the MJPEG age histogram and the stale gauge follow what each viewer has', async () => {
  const bus = new TestBus();
  const hub = new CameraHub({
    bus,
    log: pino({ level: 'silent' }),
    liveTimeoutMs: 60000,
    unsubscribeLingerMs: 100,
    stallCloseMs: 60000,
    maxFrameBytes: 1 << 20,
    maxClockSkewMs: 5000,
    lateFrameMs: 1000,
    cameraGoneMs: 60000,
    renditionWidths: [],
  });
  const tally = new DeliveryTally();
  const registry = new client.Registry();
  registerViewerAge(registry, hub, tally, STALE_MS);
  const metrics = (): Promise<string> => registry.metrics();
  try {
    const a = new FakeViewer('cam0', { observer: tally });
    const b = new FakeViewer('cam0', { observer: tally });
    await hub.watch(a);
    await hub.watch(b);
    let text = await metrics();
    assert.equal(sample(text, 'camfan_viewers_stale', 'cam0'), 0, 'just connected, nothing yet: not stale');

    await bus.publish(testFrame('cam0', 1, { timestamp: Date.now() - 5000 }), 5000);
    await flush();
    text = await metrics();
    assert.equal(sample(text, 'camfan_viewers_stale', 'cam0'), 2, 'both have only a 5 s old frame');
    assert.equal(sample(text, 'camfan_mjpeg_sent_age_seconds_count', 'cam0'), 2);
    const sum = sample(text, 'camfan_mjpeg_sent_age_seconds_sum', 'cam0')!;
    assert.ok(sum >= 10 && sum < 10.5, `two parts 5 s old: ${sum} s`);
    assert.equal(sample(text, 'camfan_viewer_ack_age_seconds_count', 'cam0'), null, 'no acknowledgements, no ack series');

    // b's socket has not taken the fresh frame yet: it still shows the old one.
    b.hold = true;
    await bus.publish(testFrame('cam0', 2), 5000);
    await flush();
    assert.equal(sample(await metrics(), 'camfan_viewers_stale', 'cam0'), 1, 'only the viewer still on the old frame');
    b.take();
    assert.equal(sample(await metrics(), 'camfan_viewers_stale', 'cam0'), 0, 'and neither once it has the fresh one');
  } finally {
    hub.close();
  }
});
