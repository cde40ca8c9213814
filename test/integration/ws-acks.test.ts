/**
 * WebSocket flow control with real processes: a viewer on a 300 kB/s link (a client that reads its socket
 * at that rate, default kernel buffers) of a 720p30 camera. With acknowledgements (and adaptation) it gets
 * fewer frames, each fresh; without, the kernel's buffers fill and what it sees falls seconds behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openWsViewer } from '../helpers/ws-client.js';
import { sleep, startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../helpers/procs.js';

const RATE = 300_000;
const WARMUP_MS = 3000;
const WINDOW_MS = 15000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Frame ages (capture timestamp to receipt) and rate over the window, for one slow viewer. */
async function measure(base: string, subscribe: Record<string, unknown> & { subscribe: string }): Promise<{ ageP50: number; fps: number; widths: Set<number> }> {
  const ages: number[] = [];
  const widths = new Set<number>();
  let measuring = false;
  const v = await openWsViewer(base, {
    subscribe,
    readBytesPerSecond: RATE,
    onFrame: (frame, at) => {
      if (!measuring) return;
      ages.push(at - frame.timestamp);
      widths.add(frame.width);
    },
  });
  await sleep(WARMUP_MS);
  measuring = true;
  await sleep(WINDOW_MS);
  measuring = false;
  v.close();
  return { ageP50: median(ages), fps: ages.length / (WINDOW_MS / 1000), widths };
}

describe('WebSocket acknowledgements on a slow link', () => {
  let redis: RedisHandle;
  let gateway: GatewayHandle;
  const procs: Proc[] = [];

  before(async () => {
    redis = await startRedis();
    procs.push(startCapture({ REDIS_URL: redis.url, CAMERA_ID: 'hd', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '1280', CAPTURE_HEIGHT: '720', CAPTURE_FPS: '30', JPEG_QUALITY: '90' }));
    await waitForFrames(redis, 'hd');
    gateway = await startGateway({ REDIS_URL: redis.url });
  });

  after(async () => {
    await Promise.all([gateway?.stop(), ...procs.map((p) => p.stop())]);
    await redis?.stop();
  });

  test('with ack and adapt: fresh frames (p50 age ≤ 500 ms) at ≥ 5 fps; without ack the same link falls behind', async () => {
    const acked = await measure(gateway.base, { subscribe: 'hd', ack: true, adapt: true });
    const plain = await measure(gateway.base, { subscribe: 'hd' });
    console.log(
      `# 300 kB/s viewer of 720p30: with ack+adapt age p50 ${acked.ageP50.toFixed(0)} ms at ${acked.fps.toFixed(1)} fps (widths ${[...acked.widths].join(',')}); ` +
        `without ack age p50 ${plain.ageP50.toFixed(0)} ms at ${plain.fps.toFixed(1)} fps`,
    );
    assert.ok(acked.ageP50 <= 500, `with acks frames are fresh: p50 age ${acked.ageP50.toFixed(0)} ms`);
    assert.ok(acked.fps >= 5, `with acks the link still gets frames: ${acked.fps.toFixed(1)} fps`);
    assert.ok(plain.ageP50 > 2 * acked.ageP50, `without acks frames queue in kernel buffers (p50 age ${plain.ageP50.toFixed(0)} ms)`);
  });
});
