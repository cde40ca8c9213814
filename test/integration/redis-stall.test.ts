/**
 * The bus is not trusted blindly, and a stalled Redis makes the gateway fail fast,
 * against a real redis-server, capture and gateways:
 * - bad entries in the camera list (`SET camfan:{evil}:camera 1`, a hash there, and friends) are skipped and counted; a
 *   gateway started afterwards lists the good cameras, and a running one still learns new cameras;
 * - Redis frozen with SIGSTOP: /readyz, /api/cameras and /snapshot (of a camera listed or not) answer 503
 *   within one command timeout (+ 300 ms) instead of hanging, /metrics answers in about the same time, and everything is back once
 *   Redis runs again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { channels } from '../../bus/channels.js';
import { startCapture, startGateway, waitFor, waitForFrames, type Proc } from '../../harness/procs.js';
import { withStack, type GatewayHandle, type RedisHandle } from '../helpers/stack.js';

const TIMEOUT_MS = 800;
const CAPTURE = { CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '160', CAPTURE_HEIGHT: '120', CAPTURE_FPS: '5' };

interface Timed {
  status: number;
  ms: number;
  body: string;
}

async function timed(url: string): Promise<Timed> {
  const started = Date.now();
  const r = await fetch(url, { signal: AbortSignal.timeout(8000) });
  const body = await r.text();
  return { status: r.status, ms: Date.now() - started, body };
}

describe('a bus not trusted blindly, a Redis that stalls', () => {
  let redis: RedisHandle;
  let first: GatewayHandle;
  after(() => redis?.child.kill('SIGCONT'));
  const stack = withStack(() => ({
    captures: [{ ...CAPTURE, CAMERA_ID: 'cam0' }],
    framesFirst: true,
    gateways: [{ REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) }],
  }));
  const procs: Proc[] = stack.captures;
  before(() => ({ redis, gateway: first } = stack));

  const cameraIds = async (base: string): Promise<string[]> =>
    ((await (await fetch(`${base}/api/cameras`)).json()) as { cameras: Array<{ camera: string }> }).cameras.map((c) => c.camera);

  test('bad camera-list entries are skipped and counted; gateways keep listing and learning cameras', async () => {
    assert.deepEqual(await cameraIds(first.base), ['cam0']);
    const c = redis.client();
    await c.set(channels.camera('evil'), '1');
    await c.set(channels.camera('evil2'), '{"camera":"evil2"}');
    await c.set(channels.camera('cam9'), (await c.get(channels.camera('cam0')))!);
    await c.hset(channels.camera('evil3'), 'camera', 'evil3');
    const late = await startGateway({ REDIS_URL: redis.url });
    procs.push(late);
    assert.deepEqual(await cameraIds(late.base), ['cam0'], 'a gateway started after the bad entries lists the good camera');
    assert.equal((await fetch(`${late.base}/snapshot/cam0`)).status, 200);
    procs.push(startCapture({ ...CAPTURE, REDIS_URL: redis.url, CAMERA_ID: 'cam1' }));
    await waitForFrames(redis, 'cam1');
    for (const gw of [first, late]) await waitFor(`${gw.base} learns cam1`, async () => (await cameraIds(gw.base)).join() === 'cam0,cam1', 5000, 100);
    const stats = (await (await fetch(`${late.base}/api/stats`)).json()) as { bus: { invalidCameraEntries: number; reconnects: number } };
    assert.ok(stats.bus.invalidCameraEntries >= 4, `invalidCameraEntries ${stats.bus.invalidCameraEntries}`);
    for (const reason of ['not a JSON object', 'not a string'])
      assert.match(late.output(), new RegExp(`"reason":"${reason}".*skipped an invalid camera-list entry`));
    assert.equal(stats.bus.reconnects, 0, 'a WRONGTYPE reply did not cost the connection');
    const logged = late
      .output()
      .split('\n')
      .filter((l) => l.includes('"key":"camfan:{evil}:camera"'));
    assert.equal(logged.length, 1, 'each bad entry is logged once, not at every listing');
    c.disconnect();
  });

  test('Redis frozen (SIGSTOP): /readyz, /api/cameras and /snapshot answer 503 at once, and recover', async () => {
    assert.equal((await timed(`${first.base}/readyz`)).status, 200);
    redis.child.kill('SIGSTOP');
    const answered: string[] = [];
    try {
      for (const path of ['/readyz', '/api/cameras', '/snapshot/cam0', '/snapshot/not-listed-yet']) {
        const r = await timed(first.base + path);
        assert.equal(r.status, 503, `${path}: ${r.status} ${r.body}`);
        // One command timeout per request, never two in a row.
        assert.ok(r.ms < TIMEOUT_MS + 300, `${path} answered after ${r.ms} ms (REDIS_COMMAND_TIMEOUT_MS ${TIMEOUT_MS})`);
        answered.push(`${path} ${r.ms} ms`);
      }
      const metrics = await timed(`${first.base}/metrics`);
      assert.equal(metrics.status, 200, 'metrics still answer (capture figures from the last camera list)');
      assert.ok(metrics.ms < TIMEOUT_MS + 300, `/metrics answered after ${metrics.ms} ms`);
      console.log(`# Redis frozen, timeout ${TIMEOUT_MS} ms: ${answered.join(', ')}, /metrics ${metrics.ms} ms`);
      const health = await timed(`${first.base}/healthz`);
      assert.equal(health.status, 200, 'the process itself is fine');
      assert.ok(health.ms < 200);
    } finally {
      redis.child.kill('SIGCONT');
    }
    await waitFor('ready again', async () => (await timed(`${first.base}/readyz`)).status === 200, 5000, 100);
    await waitFor('snapshots again', async () => (await timed(`${first.base}/snapshot/cam0`)).status === 200, 5000, 100);
    assert.deepEqual(await cameraIds(first.base), ['cam0', 'cam1']);
  });
});
