/**
 * WebSocket flow control with real processes: a viewer on a 300 kB/s link (a client that reads its socket
 * at that rate, default kernel buffers) of a 720p30 camera. With acknowledgements (and adaptation) it gets
 * fewer frames, each fresh; without, the kernel's buffers fill and what it sees falls seconds behind.
 * The acknowledgements also tell /metrics how old the picture on the viewer's screen is
 * (camfan_viewer_ack_age_seconds) and which viewers are stale (camfan_viewers_stale).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { waitFor } from '../../harness/procs.js';
import { measureSlowWsViewer, openWsViewer } from '../../harness/ws-client.js';
import { withStack, type GatewayHandle } from '../helpers/stack.js';

const RATE = 300_000;
const WARMUP_MS = 3000;
const WINDOW_MS = 15000;
const STALE_VIEWER_MS = 1000;
/** The age comparison needs no settled link, only frames on both sides of it. */
const AGE_WARMUP_MS = 1000;
const AGE_WINDOW_MS = 5000;

/** One sample of the gateway's /metrics, e.g. metric('camfan_viewers_stale', 'hd'); 0 when absent. */
async function metric(base: string, name: string, camera: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}\\{camera="${camera}"\\} ([\\d.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('WebSocket acknowledgements on a slow link', () => {
  let gateway: GatewayHandle;
  const stack = withStack(() => ({
    captures: [{ CAMERA_ID: 'hd', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '1280', CAPTURE_HEIGHT: '720', CAPTURE_FPS: '30', JPEG_QUALITY: '90' }],
    framesFirst: true,
    gateways: [{ STALE_VIEWER_MS: String(STALE_VIEWER_MS) }],
  }));
  before(() => ({ gateway } = stack));

  test('with ack and adapt: fresh frames (p50 age ≤ 500 ms) at ≥ 5 fps; without ack the same link falls behind', async () => {
    // Both viewers at once: each reads its own socket at RATE (its own link); they share only the camera.
    const [acked, plain] = await Promise.all([
      measureSlowWsViewer(gateway.base, { subscribe: 'hd', ack: true, adapt: true }, RATE, WARMUP_MS, WINDOW_MS),
      measureSlowWsViewer(gateway.base, { subscribe: 'hd' }, RATE, WARMUP_MS, WINDOW_MS),
    ]);
    console.log(
      `# 300 kB/s viewer of 720p30: with ack+adapt age p50 ${acked.ageP50.toFixed(0)} ms at ${acked.fps.toFixed(1)} fps (widths ${acked.widths.join(',')}); ` +
        `without ack age p50 ${plain.ageP50.toFixed(0)} ms at ${plain.fps.toFixed(1)} fps`,
    );
    assert.ok(acked.ageP50 <= 500, `with acks frames are fresh: p50 age ${acked.ageP50.toFixed(0)} ms`);
    assert.ok(acked.fps >= 5, `with acks the link still gets frames: ${acked.fps.toFixed(1)} fps`);
    assert.ok(plain.ageP50 > 2 * acked.ageP50, `without acks frames queue in kernel buffers (p50 age ${plain.ageP50.toFixed(0)} ms)`);
  });

  test('/metrics: the age at acknowledgement is the age the viewer measured, plus one network leg', async () => {
    const ages: number[] = [];
    let measuring = false;
    const v = await openWsViewer(gateway.base, {
      subscribe: { subscribe: 'hd', ack: true, adapt: true },
      readBytesPerSecond: RATE,
      onFrame: (frame, at) => {
        if (measuring) ages.push(at - frame.timestamp);
      },
    });
    try {
      await new Promise((r) => setTimeout(r, AGE_WARMUP_MS));
      const sum0 = await metric(gateway.base, 'camfan_viewer_ack_age_seconds_sum', 'hd');
      const count0 = await metric(gateway.base, 'camfan_viewer_ack_age_seconds_count', 'hd');
      measuring = true;
      await new Promise((r) => setTimeout(r, AGE_WINDOW_MS));
      measuring = false;
      // The acknowledgement of the last frame counted is on its way back.
      await new Promise((r) => setTimeout(r, 100));
      const count = (await metric(gateway.base, 'camfan_viewer_ack_age_seconds_count', 'hd')) - count0;
      const gatewayMeanMs = (((await metric(gateway.base, 'camfan_viewer_ack_age_seconds_sum', 'hd')) - sum0) / count) * 1000;
      const viewerMeanMs = ages.reduce((a, b) => a + b, 0) / ages.length;
      console.log(
        `# ack age at the gateway: mean ${gatewayMeanMs.toFixed(1)} ms over ${count} acks; the viewer's own: ${viewerMeanMs.toFixed(1)} ms over ${ages.length}`,
      );
      assert.ok(ages.length >= 20, `the viewer got frames: ${ages.length}`);
      // The window's edges may count a frame or two on one side and not the other: a frame received while
      // the opening scrape is answered is acknowledged after it (more of them on a loaded machine).
      assert.ok(Math.abs(count - ages.length) <= Math.max(2, 0.05 * ages.length), `one acknowledgement per frame received: ${count} vs ${ages.length}`);
      // One leg on loopback is well under a millisecond; the margin is the event loops' and the edges' (one frame of 20+).
      assert.ok(gatewayMeanMs >= viewerMeanMs - 25, `not younger than the viewer saw it: ${gatewayMeanMs.toFixed(1)} vs ${viewerMeanMs.toFixed(1)} ms`);
      assert.ok(gatewayMeanMs <= viewerMeanMs + 50, `older only by the way back: ${gatewayMeanMs.toFixed(1)} vs ${viewerMeanMs.toFixed(1)} ms`);
    } finally {
      v.close();
    }
  });

  test('/metrics: a viewer that stops acknowledging counts as stale, and not once it resumes', async () => {
    const v = await openWsViewer(gateway.base, { subscribe: { subscribe: 'hd', ack: true } });
    const stale = (): Promise<number> => metric(gateway.base, 'camfan_viewers_stale', 'hd');
    try {
      await waitFor('an acknowledging viewer, not stale', async () => v.frames > 0 && (await stale()) === 0);
      v.pauseAcks();
      const pausedAt = Date.now();
      await waitFor('the viewer counted stale', async () => (await stale()) === 1, 5000, 100);
      const after = Date.now() - pausedAt;
      assert.ok(after >= STALE_VIEWER_MS - 100, `stale only past STALE_VIEWER_MS: after ${after} ms`);
      v.resumeAcks();
      await waitFor('the viewer fresh again', async () => (await stale()) === 0, 3000, 100);
    } finally {
      v.close();
    }
  });
});
