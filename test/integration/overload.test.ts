/**
 * Past capacity, with real processes: a gateway made slower than its camera (SIMULATE_DELIVERY_COST_US adds
 * busy time per viewer reached, so one frame's fan-out takes longer than the frame interval) must shed
 * frames, not fall behind: its Redis subscriber's output buffer stays near zero, /healthz answers at once,
 * and what viewers get is fresh. With MAX_VIEWERS=auto it refuses new viewers once full, says so on
 * /readyz, and the viewers it has keep their rate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStream, type StreamClient } from '../../harness/mjpeg-client.js';
import { sleep, startGateway, waitFor, type Proc } from '../../harness/procs.js';
import { withStack, type GatewayHandle, type RedisHandle, type StackPlan } from '../helpers/stack.js';

/** Largest output buffer (bytes) among Redis connections with this name. */
async function maxOmem(redis: RedisHandle, name: string): Promise<number> {
  const c = redis.client();
  const list = String(await c.client('LIST'));
  c.disconnect();
  let max = 0;
  for (const line of list.split('\n')) {
    if (!line.includes(` name=${name} `)) continue;
    max = Math.max(max, Number(/ omem=(\d+)/.exec(line)?.[1] ?? 0));
  }
  return max;
}

async function timedGet(url: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await r.arrayBuffer();
  return { ms: performance.now() - t0, status: r.status };
}

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

/** The frame rate a camera's capture announced (what it really publishes on this busy machine). */
async function cameraFps(base: string, camera: string): Promise<number> {
  const body = (await (await fetch(`${base}/api/cameras`)).json()) as { cameras: Array<{ camera: string; fps: number }> };
  return body.cameras.find((c) => c.camera === camera)!.fps;
}

/** Frames each stream received from now for `ms`. */
async function ratesOver(streams: StreamClient[], ms: number): Promise<number[]> {
  const before = streams.map((s) => s.count);
  await sleep(ms);
  return streams.map((s, i) => ((s.count - before[i]!) * 1000) / ms);
}

describe('overload', () => {
  let redis: RedisHandle;
  const streams: StreamClient[] = [];
  after(() => {
    for (const s of streams) s.close();
  });
  const stack = withStack(
    (): StackPlan => ({
      captures: [
        { CAMERA_ID: 'hd', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '1280', CAPTURE_HEIGHT: '720', CAPTURE_FPS: '30', JPEG_QUALITY: '90' },
        { CAMERA_ID: 'small', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '15' },
      ],
    }),
  );
  const procs: Proc[] = stack.captures;
  before(() => ({ redis } = stack));

  test('a gateway slower than its camera keeps its Redis queue near zero, answers /healthz and serves fresh frames', async () => {
    // 30 viewers at 2.5 ms each: one frame's fan-out takes ~75 ms against a 33 ms frame interval.
    const gateway: GatewayHandle = await startGateway({ REDIS_URL: redis.url, SIMULATE_DELIVERY_COST_US: '2500' });
    procs.push(gateway);
    const ages: number[] = [];
    let measuring = false;
    const mine: StreamClient[] = [];
    for (let i = 0; i < 30; i++) {
      mine.push(
        openStream(`${gateway.base}/stream/hd?framing=classic`, { onPart: (p) => measuring && p.timestamp !== null && ages.push(p.receivedAt - p.timestamp) }),
      );
    }
    streams.push(...mine);
    await waitFor('every viewer streaming', () => mine.every((s) => s.count > 0), 15000);
    await sleep(1000);
    measuring = true;
    const omem: number[] = [];
    const health: number[] = [];
    const t0 = performance.now();
    const startCounts = mine.map((s) => s.count);
    while (performance.now() - t0 < 6000) {
      const [o, h] = await Promise.all([maxOmem(redis, 'camfan-subscriber'), timedGet(`${gateway.base}/healthz`), sleep(200)]);
      omem.push(o);
      assert.equal(h.status, 200);
      health.push(h.ms);
    }
    measuring = false;
    const fps = mine.map((s, i) => ((s.count - startCounts[i]!) * 1000) / (performance.now() - t0));
    const published = await cameraFps(gateway.base, 'hd');
    const metrics = await (await fetch(`${gateway.base}/metrics`)).text();
    const superseded = Number(/camfan_frames_superseded_total\{camera="hd"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    const frameBytes = Number(/camfan_capture_frame_bytes\{camera="hd"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    console.log(
      `# overloaded gateway: viewers' fps p50 ${percentile(fps, 50).toFixed(1)} (camera ${published}), frame age p50 ${percentile(ages, 50).toFixed(0)} / p95 ${percentile(ages, 95).toFixed(0)} / max ${Math.max(...ages).toFixed(0)} ms, ` +
        `subscriber omem max ${(Math.max(...omem) / 1024).toFixed(0)} kB (frame ${(frameBytes / 1024).toFixed(0)} kB), /healthz p50 ${percentile(health, 50).toFixed(1)} / max ${Math.max(...health).toFixed(1)} ms, superseded ${superseded}`,
    );
    assert.ok(superseded > 30, `the gateway must actually be overloaded (frames superseded: ${superseded})`);
    assert.ok(percentile(fps, 50) < 0.8 * published, `viewers get fewer frames than the camera's ${published} fps (got ${percentile(fps, 50).toFixed(1)})`);
    assert.ok(percentile(fps, 50) >= 5, `viewers still get frames (p50 ${percentile(fps, 50).toFixed(1)} fps)`);
    assert.ok(percentile(ages, 95) < 500, `frames stay fresh: p95 age ${percentile(ages, 95).toFixed(0)} ms`);
    assert.ok(Math.max(...omem) <= 1024 * 1024, `Redis output buffer for the gateway stays small: max ${Math.max(...omem)} bytes`);
    assert.ok(Math.max(...health) < 250, `/healthz answers promptly: max ${Math.max(...health).toFixed(1)} ms`);
    for (const s of mine) assert.deepEqual(s.invalid, []);
    for (const s of mine) s.close();
    await gateway.stop();
  });

  test('MAX_VIEWERS=auto refuses viewers past capacity with 503 and Retry-After, /readyz says why, the viewers it has keep their rate', async () => {
    // 2 ms per viewer reached at 15 fps: each viewer costs ~3% of the loop, so the gateway is full at ~25 viewers.
    const gateway: GatewayHandle = await startGateway({ REDIS_URL: redis.url, MAX_VIEWERS: 'auto', AUTO_MAX_LOAD: '0.8', SIMULATE_DELIVERY_COST_US: '2000' });
    procs.push(gateway);
    assert.equal((await fetch(`${gateway.base}/readyz`)).status, 200);
    const admitted: StreamClient[] = [];
    let refusal: { status: number; retryAfter: string | null; body: string } | null = null;
    for (let i = 0; i < 80 && !refusal; i++) {
      const s = openStream(`${gateway.base}/stream/small?framing=classic`);
      const { statusCode } = await s.status;
      if (statusCode === 503) {
        s.close();
        // Full: a plain request sees the refusal as a load balancer or browser would.
        const r = await fetch(`${gateway.base}/stream/small?framing=classic`, { signal: AbortSignal.timeout(3000) });
        refusal = { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
        break;
      }
      admitted.push(s);
      await sleep(250);
    }
    streams.push(...admitted);
    assert.ok(refusal, `a viewer is refused before 80 (admitted ${admitted.length})`);
    assert.ok(admitted.length >= 5, `the gateway took viewers before it was full (${admitted.length})`);
    assert.equal(refusal.retryAfter, '5');
    assert.match(refusal.body, /capacity/);
    const ready = await fetch(`${gateway.base}/readyz`);
    const body = (await ready.json()) as { status: string; load: number };
    assert.equal(ready.status, 503);
    assert.equal(body.status, 'saturated');
    const rates = await ratesOver(admitted, 3000);
    const published = await cameraFps(gateway.base, 'small');
    console.log(
      `# MAX_VIEWERS=auto: full at ${admitted.length} viewers (load ${body.load}); their fps p50 ${percentile(rates, 50).toFixed(1)}, min ${Math.min(...rates).toFixed(1)} (camera ${published})`,
    );
    assert.ok(
      percentile(rates, 50) >= 0.9 * published,
      `admitted viewers keep the camera's rate (${published} fps): p50 ${percentile(rates, 50).toFixed(1)} fps`,
    );
    const metrics = await (await fetch(`${gateway.base}/metrics`)).text();
    assert.match(metrics, /camfan_requests_refused_total\{reason="saturated"\} [1-9]/);
    // Half the viewers leave: the gateway is ready again.
    for (const s of admitted.splice(0, Math.ceil(admitted.length / 2))) s.close();
    await waitFor('/readyz ready again', async () => (await fetch(`${gateway.base}/readyz`)).status === 200, 10000, 200);
    for (const s of admitted) s.close();
    await gateway.stop();
  });
});
