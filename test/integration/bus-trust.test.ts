/**
 * What reaches the gateway from Redis is checked, and limits do what they say, with real processes:
 * frames stamped far in the future, frames that carry the stream's delimiter, oversized frames, a viewer
 * stuck longer than uWebSockets.js's own ~10 s idle timeout, and a capture that is gone for good.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { encodeFrame } from '../../bus/frame.js';
import { fetchJson, openStream, openStuckViewer } from '../../harness/mjpeg-client.js';
import { sleep, startCapture, waitFor, waitForFrames, type Proc } from '../../harness/procs.js';
import { within } from '../helpers/within.js';
import { withStack, type GatewayHandle, type RedisHandle } from '../helpers/stack.js';

/** A minimal valid-looking JPEG (SOI … EOI) with `body` in between. */
function jpegWith(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8]), body, Buffer.from([0xff, 0xd9])]);
}

async function publishRaw(redis: RedisHandle, camera: string, timestamp: number, jpeg: Buffer): Promise<void> {
  const c = redis.client();
  await c.publish(`camfan:{${camera}}:frames`, encodeFrame({ camera, seq: 999_999, timestamp, width: 320, height: 240, jpeg }));
  c.disconnect();
}

const rejected = async (base: string, reason: string): Promise<number> =>
  Number(new RegExp(`camfan_frames_rejected_total\\{reason="${reason}"\\} (\\d+)`).exec(await (await fetch(`${base}/metrics`)).text())?.[1] ?? NaN);

describe('bus trust and limits', () => {
  let redis: RedisHandle;
  let gateway: GatewayHandle;
  const stack = withStack(() => ({
    captures: [
      { CAMERA_ID: 'cam0', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '15' },
      { CAMERA_ID: 'hd', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '1920', CAPTURE_HEIGHT: '1080', CAPTURE_FPS: '30' },
    ],
    framesFirst: true,
    gateways: [{ MAX_FRAME_BYTES: '1048576', STALL_CLOSE_MS: '13000', CAMERA_GONE_MS: '3000' }],
  }));
  const procs: Proc[] = stack.captures;
  before(() => ({ redis, gateway } = stack));

  test('a frame stamped a year ahead is refused: viewers keep getting the camera', async () => {
    const s = openStream(`${gateway.base}/stream/cam0?framing=classic`, { keepParts: true });
    await waitFor('frames', () => s.count > 2);
    await publishRaw(redis, 'cam0', Date.now() + 365 * 86400e3, jpegWith(Buffer.alloc(100, 1)));
    const before = s.count;
    // Frames keep coming after the future-stamped one (15 fps: 10 in well under a second when nothing waits).
    await waitFor('10 more frames after the future-stamped one', () => s.count - before >= 10, 5000);
    s.close();
    assert.ok(
      s.parts.every((p) => p.timestamp! < Date.now() + 60_000),
      'the future-stamped frame never reached the viewer',
    );
    assert.equal(await rejected(gateway.base, 'future'), 1);
  });

  test('a "JPEG" that carries the stream delimiter and an HTML part is refused', async () => {
    const s = openStream(`${gateway.base}/stream/cam0?framing=advance`, { userAgent: 'Mozilla/5.0', keepParts: true });
    await waitFor('frames', () => s.count > 2);
    const injected = Buffer.from(
      '\r\n--camfanframe\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--camfanframe\r\nContent-Type: image/jpeg\r\n\r\n',
      'latin1',
    );
    await publishRaw(redis, 'cam0', Date.now(), jpegWith(injected));
    await sleep(1000);
    s.close();
    assert.ok(
      s.parts.every((p) => !p.jpeg.includes('text/html')),
      'no part carries the injected HTML',
    );
    assert.deepEqual(s.invalid, []);
    assert.equal(await rejected(gateway.base, 'boundary'), 1);
  });

  test('a frame over MAX_FRAME_BYTES is refused', async () => {
    const s = openStream(`${gateway.base}/stream/cam0?framing=classic`, { keepParts: true });
    await waitFor('frames', () => s.count > 2);
    await publishRaw(redis, 'cam0', Date.now(), jpegWith(Buffer.alloc(20 * 1024 * 1024, 7)));
    await sleep(1500);
    s.close();
    assert.ok(
      s.parts.every((p) => p.jpeg.length < 1024 * 1024),
      'no oversized part reached the viewer',
    );
    assert.equal(await rejected(gateway.base, 'too_large'), 1);
  });

  test("STALL_CLOSE_MS above uWebSockets.js's ~10 s idle timeout still decides: the stuck viewer is closed by camfan, counted and logged", async () => {
    const t0 = Date.now();
    const stuck = openStuckViewer(gateway.port, '/stream/hd?framing=classic');
    await waitFor('the gateway to close the stuck viewer', () => /closing stalled viewer/.test(gateway.output()), 40000, 200);
    const ms = Date.now() - t0;
    stuck.resume();
    await within(stuck.closed, 15000, 'the connection was not closed');
    const stats = await fetchJson<{ stallClosed: number }>(`${gateway.base}/api/stats`);
    console.log(`# stuck viewer closed by camfan after ${ms} ms (STALL_CLOSE_MS 13000 + time to fill kernel buffers)`);
    assert.ok(ms >= 13000, `closed after the setting, not before (${ms} ms)`);
    assert.equal(stats.body.stallClosed, 1);
  });

  test('a capture gone for good: NO SIGNAL, then its streams end, it leaves the list, and new viewers get 404', async () => {
    const doomed = startCapture({
      REDIS_URL: redis.url,
      CAMERA_ID: 'doomed',
      CAPTURE_SOURCE: 'test',
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      CAPTURE_FPS: '10',
    });
    procs.push(doomed);
    await waitForFrames(redis, 'doomed');
    const s = openStream(`${gateway.base}/stream/doomed?framing=classic`, { keepParts: true });
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/ws`);
    const texts: string[] = [];
    ws.on('message', (data, isBinary) => !isBinary && texts.push(data.toString()));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: 'doomed' }));
    await waitFor('frames', () => s.count > 2);
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    await within(s.closed, 20000, 'the stream of the gone camera did not end');
    const endedAfter = Date.now() - killedAt;
    assert.ok(
      s.parts.some((p) => p.jpeg.includes('nosignal')),
      'viewers saw NO SIGNAL before the end',
    );
    assert.equal(s.leftover(), 0, 'the stream ended at a part boundary');
    await waitFor('the WebSocket told', () => texts.some((t) => /camera gone/.test(t)), 5000);
    ws.close();
    const list = await fetchJson<{ cameras: Array<{ camera: string }> }>(`${gateway.base}/api/cameras`);
    assert.ok(!list.body.cameras.some((c) => c.camera === 'doomed'), 'gone from /api/cameras');
    assert.equal((await fetch(`${gateway.base}/stream/doomed`)).status, 404);
    console.log(`# gone camera: stream ended ${endedAfter} ms after its capture was killed (CAMERA_GONE_MS 3000)`);
  });
});
