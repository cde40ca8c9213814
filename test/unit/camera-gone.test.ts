/**
 * A camera whose capture stops announcing itself for CAMERA_GONE_MS is gone: the hub ends its streams, but
 * only once the bus has been up a while (an outage, or captures re-announcing after one, ends nothing).
 * The hub's clock is mocked (Date, timers) so that the seconds this takes pass at once.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import pino from 'pino';
import { CameraHub } from '../../gateway/delivery/hub.js';
import { FakeViewer, flush, TestBus, testCameraInfo, testFrame } from '../helpers/in-memory.js';

const GONE_MS = 3000;

/** Advances the mocked clock a second at a time; the 'alive' capture announces itself and publishes each second. */
async function runSeconds(bus: TestBus, seconds: number, each: () => void): Promise<void> {
  for (let s = 0; s < seconds; s++) {
    mock.timers.tick(1000);
    await bus.announce(testCameraInfo('alive'), GONE_MS + 5000);
    await bus.publish(testFrame('alive', s), 5000);
    await flush(10); // the hub's camera listing runs on promises
    each();
  }
}

test('a camera not announced for CAMERA_GONE_MS has its streams ended, not before the bus has been up 5 s', async () => {
  mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: Date.now() });
  const bus = new TestBus();
  const hub = new CameraHub({
    bus,
    log: pino({ level: 'silent' }),
    liveTimeoutMs: 1000,
    unsubscribeLingerMs: 100,
    stallCloseMs: 2000, // sweeps once a second
    maxFrameBytes: 1 << 20,
    maxClockSkewMs: 5000,
    lateFrameMs: 1000,
    cameraGoneMs: GONE_MS,
    renditionWidths: [],
  });
  try {
    await bus.announce(testCameraInfo('gone'), GONE_MS + 5000);
    await bus.announce(testCameraInfo('alive'), GONE_MS + 5000);
    const doomed = new FakeViewer('gone');
    const alive = new FakeViewer('alive');
    await hub.watch(doomed);
    await hub.watch(alive);
    await bus.publish(testFrame('gone', 1), 5000);
    const start = Date.now();

    // Redis down for 8 s: the camera list cannot be trusted, nothing is ended.
    bus.down = true;
    await runSeconds(bus, 8, () => undefined);
    assert.equal(doomed.gone, false, 'an outage ends no stream');
    assert.ok(doomed.seqs.includes('P'), 'its viewers see NO SIGNAL meanwhile');

    bus.down = false;
    const upAt = Date.now();
    let goneAt = 0;
    await runSeconds(bus, 10, () => {
      if (doomed.gone && goneAt === 0) goneAt = Date.now();
    });
    assert.ok(goneAt > 0, 'the stream was ended');
    assert.ok(goneAt - upAt >= 5000 && goneAt - upAt <= 8000, `ended ${goneAt - upAt} ms after Redis came back (expected 5 to 8 s)`);
    assert.ok(goneAt - start > GONE_MS);
    assert.equal(hub.watchdog.camerasGone, 1);
    assert.equal(hub.viewerCount('gone'), 0, 'its viewers left the hub');
    assert.equal(alive.gone, false, 'a camera that keeps announcing itself stays');
    assert.equal(hub.viewerCount('alive'), 1);
    assert.equal(await hub.isKnown('gone'), false, 'and it is no longer listed');
  } finally {
    hub.close();
    mock.timers.reset();
  }
});
