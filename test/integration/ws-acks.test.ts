/**
 * WebSocket flow control with real processes: a viewer on a 300 kB/s link (a client that reads its socket
 * at that rate, default kernel buffers) of a 720p30 camera. With acknowledgements (and adaptation) it gets
 * fewer frames, each fresh; without, the kernel's buffers fill and what it sees falls seconds behind.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { measureSlowWsViewer } from '../../harness/ws-client.js';
import { withStack, type GatewayHandle } from '../helpers/stack.js';

const RATE = 300_000;
const WARMUP_MS = 3000;
const WINDOW_MS = 15000;

describe('WebSocket acknowledgements on a slow link', () => {
  let gateway: GatewayHandle;
  const stack = withStack(() => ({
    captures: [{ CAMERA_ID: 'hd', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '1280', CAPTURE_HEIGHT: '720', CAPTURE_FPS: '30', JPEG_QUALITY: '90' }],
    framesFirst: true,
    gateways: [{}],
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
});
