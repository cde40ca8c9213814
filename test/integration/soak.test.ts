/**
 * The soak, short: viewers arriving and leaving every second for half a minute against a real gateway.
 * RSS, file descriptors and latency stay flat, every part is whole, and the gateway ends where it began.
 * (`npm run bench -- --soak 600 --clients 200` is the 10-minute version; see BENCHMARKS.md.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { soak } from '../../harness/soak.js';
import { median } from '../../harness/stats.js';
import { startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';

let redis: RedisHandle;
let capture: Proc;
let gateway: GatewayHandle;
const FPS = 15;

before(async () => {
  redis = await startRedis();
  capture = startCapture({
    REDIS_URL: redis.url,
    CAMERA_ID: 'cam0',
    CAPTURE_SOURCE: 'test',
    CAPTURE_WIDTH: '640',
    CAPTURE_HEIGHT: '480',
    CAPTURE_FPS: String(FPS),
    IDLE_FPS: '0',
  });
  gateway = await startGateway({ REDIS_URL: redis.url });
  await waitForFrames(redis, 'cam0');
});

after(async () => {
  await Promise.all([gateway?.stop(), capture?.stop()]);
  await redis?.stop();
});

test('30 s of 100 viewers with 5 replaced every second: flat RSS, fds and latency, nothing lost', async () => {
  const r = await soak(
    { port: gateway.port, path: '/video_feed?framing=classic', pids: [gateway.child.pid!] },
    { clients: 100, seconds: 30, churnPerSecond: 5, sampleEverySeconds: 5 },
  );
  const rows = r.samples.map((x) => `${x.atSeconds}s ${x.rssMB.toFixed(1)}MB ${x.fds}fd p99 ${x.latencyP99.toFixed(1)}ms ${x.fpsP50.toFixed(1)}fps`);
  console.log(`# soak: ${r.connects} connections; ${rows.join('; ')}; fds ${r.fdsBefore} -> ${r.fdsAfter}`);
  assert.equal(r.invalidParts, 0, 'every part whole');
  assert.equal(r.droppedByServer, 0, 'no viewer closed by the gateway');
  assert.ok(r.connects >= 100 + 5 * 29, `${r.connects} connections`);
  for (const x of r.samples) assert.ok(x.fpsP50 >= FPS * 0.8, `${x.fpsP50.toFixed(1)} fps at ${x.atSeconds} s`);
  const [, second, ...rest] = r.samples;
  const last = rest[rest.length - 1]!;
  assert.ok(last.rssMB - second!.rssMB < 15, `RSS ${second!.rssMB.toFixed(1)} -> ${last.rssMB.toFixed(1)} MB`);
  assert.ok(Math.abs(last.fds - second!.fds) <= 10, `fds ${second!.fds} -> ${last.fds}`);
  const typical = median(r.samples.map((x) => x.latencyP99));
  assert.ok(last.latencyP99 < 3 * typical + 20, `latency p99 ${last.latencyP99.toFixed(1)} ms in the last interval, typically ${typical.toFixed(1)} ms`);
  assert.ok(r.fdsAfter <= r.fdsBefore + 2, `fds ${r.fdsBefore} before, ${r.fdsAfter} after`);
});
