/**
 * End to end with real parts: redis-server, capture processes (test pattern, a clip made by ffmpeg, a
 * camera that does not exist) and a gateway, read by real HTTP clients and by ffmpeg.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { isJpeg } from '../../bus/frame.js';
import { fetchJson, now, openStream } from '../../harness/mjpeg-client.js';
import { makeClip, requireTool, sleep, startCapture, startGateway, waitFor, waitForFrames, type Proc } from '../../harness/procs.js';
import { withStack, type GatewayHandle, type RedisHandle } from '../helpers/stack.js';

const FPS = 15;

describe('capture -> redis -> gateway -> clients', () => {
  let redis: RedisHandle;
  let gateway: GatewayHandle;
  const tmp = mkdtempSync(path.join(tmpdir(), 'camfan-'));
  const stack = withStack(() => {
    const clip = path.join(tmp, 'clip.avi');
    makeClip(clip, 1, '320x240', 10);
    const common = { CAPTURE_WIDTH: '640', CAPTURE_HEIGHT: '480', CAPTURE_FPS: String(FPS) };
    return {
      captures: [
        { ...common, CAMERA_ID: 'cam0', CAPTURE_SOURCE: 'test' },
        { ...common, CAMERA_ID: 'cam1', CAPTURE_SOURCE: 'test' },
        { ...common, CAMERA_ID: 'clip', CAPTURE_SOURCE: clip, CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240' },
        { ...common, CAMERA_ID: 'nocam', CAPTURE_SOURCE: '/dev/video9', RETRY_MAX_MS: '500' },
      ],
      gateways: [{}],
      frames: ['cam0', 'cam1', 'clip'],
    };
  });
  const procs: Proc[] = stack.captures;
  before(() => ({ redis, gateway } = stack));

  test('frames arrive at the configured rate as whole JPEGs whose Content-Length matches', async () => {
    const s = openStream(`${gateway.base}/video_feed`);
    const { statusCode, headers } = await s.status;
    assert.equal(statusCode, 200);
    assert.equal(headers['content-type'], 'multipart/x-mixed-replace; boundary=camfanframe');
    assert.equal(headers['cache-control'], 'no-store, no-cache, must-revalidate, max-age=0');
    assert.equal(headers['x-accel-buffering'], 'no');
    await sleep(3000);
    s.close();
    assert.deepEqual(s.invalid, []);
    const parts = s.parts.filter((p) => p.receivedAt - s.parts[0]!.receivedAt >= 1000); // skip the cached first frame and warm-up
    const span = (parts.at(-1)!.receivedAt - parts[0]!.receivedAt) / 1000;
    const fps = (parts.length - 1) / span;
    assert.ok(fps > FPS * 0.85 && fps < FPS * 1.15, `delivered ${fps.toFixed(1)} fps, configured ${FPS}`);
    for (const p of s.parts) {
      assert.equal(Number(p.headers['content-length']), p.jpeg.length);
      assert.equal(p.headers['content-type'], 'image/jpeg');
      assert.ok(p.timestamp! > 0 && p.receivedAt - p.timestamp! < 1000, 'X-Timestamp is the recent capture time');
    }
    const seqs = s.parts.map((p) => p.seq!);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in order',
    );
  });

  test('a new viewer gets the cached latest frame at once', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = openStream(`${gateway.base}/stream/cam1`);
      await waitFor('first part', () => s.firstPartAt !== null, 3000, 1);
      times.push(s.firstPartAt! - s.connectedAt);
      s.close();
    }
    times.sort((a, b) => a - b);
    // At 15 fps the next live frame is up to 67 ms away; the cached frame comes well before.
    assert.ok(times[2]! < 50, `median time to first frame ${times[2]!.toFixed(1)} ms`);
  });

  test('two cameras stream at once, each its own pictures', async () => {
    const a = openStream(`${gateway.base}/stream/cam0`);
    const b = openStream(`${gateway.base}/stream/cam1`);
    await waitFor('frames on both', () => a.count >= 5 && b.count >= 5, 5000);
    a.close();
    b.close();
    const camOf = (jpeg: Buffer): string | undefined => / cam=(\S+)/.exec(jpeg.toString('latin1', 6, 80))?.[1];
    assert.ok(a.parts.every((p) => camOf(p.jpeg) === 'cam0'));
    assert.ok(b.parts.every((p) => camOf(p.jpeg) === 'cam1'));
  });

  test('a video file loops: frames keep coming past the end of the clip', async () => {
    const s = openStream(`${gateway.base}/stream/clip`);
    await waitFor('two clip lengths of frames', () => s.count >= 25, 10000);
    s.close();
    assert.deepEqual(s.invalid, []);
    const { status, body } = await fetchJson<{ cameras: Array<{ camera: string; width: number; live: boolean; source: string }> }>(
      `${gateway.base}/api/cameras`,
    );
    assert.equal(status, 200);
    const clip = body.cameras.find((c) => c.camera === 'clip')!;
    assert.equal(clip.width, 320);
    assert.equal(clip.live, true);
    assert.match(clip.source, /^file .*clip\.avi$/);
  });

  test('/snapshot returns the latest JPEG with its timestamp', async () => {
    const r = await fetch(`${gateway.base}/snapshot/cam0`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    const body = Buffer.from(await r.arrayBuffer());
    assert.ok(isJpeg(body));
    assert.ok(now() - Number(r.headers.get('x-timestamp')) * 1000 < 1000);
  });

  test('a camera that cannot open is reported with its source and retried; it has no live frame', async () => {
    const nocam = procs[3]!;
    await waitFor('two failed attempts in the log', () => (nocam.output().match(/source failed; retrying/g) ?? []).length >= 2, 8000);
    assert.match(nocam.output(), /cannot open camera \/dev\/video9 \(index 9\): no camera at \/dev\/video9/);
    await waitFor('camera announced', async () => (await fetch(`${gateway.base}/snapshot/nocam`)).status === 503, 5000);
    const r = await fetch(`${gateway.base}/snapshot/nocam`);
    assert.match(await r.text(), /camera nocam has no live frame/);
    const list = await fetchJson<{ cameras: Array<{ camera: string; live: boolean }> }>(`${gateway.base}/api/cameras`);
    assert.equal(list.body.cameras.find((c) => c.camera === 'nocam')?.live, false);
  });

  test('bad requests get 4xx and the gateway keeps serving', async () => {
    const cases: Array<[string, RequestInit | undefined, number]> = [
      ['/stream/nope', undefined, 404],
      ['/snapshot/nope', undefined, 404],
      ['/stream/..%2F..%2Fetc%2Fpasswd', undefined, 404],
      ['/snapshot/%E0%A4%A', undefined, 404],
      [`/stream/${'x'.repeat(300)}`, undefined, 404],
      ['/stream/cam0?framing=sideways', undefined, 400],
      ['/stream/cam0?width=NaN', undefined, 400],
      ['/stream/cam0?width=1e999', undefined, 400],
      ['/stream/cam0?width=-320', undefined, 400],
      ['/stream/cam0?width=99999999999999999999', undefined, 400],
      ['/stream/cam0?fps=0x10', undefined, 400],
      ['/stream/cam0?fps=Infinity', undefined, 400],
      ['/stream/cam0?fps=2.5', undefined, 400],
      ['/snapshot/cam0?width=abc', undefined, 400],
      ['/page/..%2fpackage.json', undefined, 404],
      ['/page/%2e%2e/package.json', undefined, 404],
      ['/page/%252e%252e%252fpackage.json', undefined, 404],
      ['/page/main.js%00.png', undefined, 404],
      ['/page/%00', undefined, 404],
      ['/page/../../package.json', undefined, 404],
      ['/page/main.js/', undefined, 404],
      ['/no/such/page', undefined, 404],
      ['/video_feed', { method: 'POST', body: 'x' }, 405],
      ['/snapshot/cam0', { method: 'DELETE' }, 405],
    ];
    for (const [url, init, status] of cases) {
      const r = await fetch(gateway.base + url, init);
      assert.equal(r.status, status, `${init?.method ?? 'GET'} ${url}`);
      await r.arrayBuffer();
    }
    // Garbage that is not HTTP at all.
    await new Promise<void>((resolve) => {
      const sock = connect(gateway.port, '127.0.0.1', () => sock.end('\x00\x01 GARBAGE \r\n\r\n'));
      sock.on('data', () => undefined);
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    assert.equal((await fetch(`${gateway.base}/healthz`)).status, 200);
    assert.equal((await fetch(`${gateway.base}/readyz`)).status, 200);
  });

  test('ffmpeg, a client from another project, decodes the stream', () => {
    requireTool('ffmpeg', 'sudo apt-get install -y ffmpeg');
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', `${gateway.base}/video_feed`, '-frames:v', '20', '-f', 'framemd5', '-'], {
      timeout: 20000,
    });
    assert.equal(r.status, 0, r.stderr.toString());
    const frames = r.stdout
      .toString()
      .split('\n')
      .filter((l) => /^0,/.test(l));
    assert.equal(frames.length, 20);
    assert.ok(new Set(frames.map((l) => l.split(',').at(-1))).size > 10, 'the pictures change');
  });

  test('/metrics: Prometheus text whose values move when viewers connect', async () => {
    const scrape = async (): Promise<Map<string, number>> => {
      const r = await fetch(`${gateway.base}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const out = new Map<string, number>();
      for (const line of (await r.text()).split('\n')) {
        const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
        if (m) out.set(m[1]!, Number(m[2]));
      }
      return out;
    };
    const before = await scrape();
    const streams = [openStream(`${gateway.base}/stream/cam1`), openStream(`${gateway.base}/stream/cam1?fps=2`)];
    await waitFor('frames', () => streams.every((s) => s.count >= 4), 5000);
    await sleep(2100); // the capture was idle (nobody watched cam1): let its announced fps cover a full second at speed
    const during = await scrape();
    for (const s of streams) s.close();
    const cam = '{camera="cam1"}';
    assert.equal(during.get(`camfan_viewers${cam}`), 2);
    assert.ok(during.get(`camfan_frames_delivered_total${cam}`)! >= (before.get(`camfan_frames_delivered_total${cam}`) ?? 0) + 8);
    assert.ok(during.get(`camfan_bytes_sent_total${cam}`)! > (before.get(`camfan_bytes_sent_total${cam}`) ?? 0));
    assert.ok(during.get('camfan_frames_dropped_total{camera="cam1",reason="fps_cap"}')! > 0, 'the ?fps=2 viewer skipped frames');
    assert.ok(during.get('camfan_delivery_latency_seconds_count')! > (before.get('camfan_delivery_latency_seconds_count') ?? 0));
    assert.ok(during.get(`camfan_frame_age_seconds_count${cam}`)! > 0);
    assert.ok(Math.abs(during.get(`camfan_capture_fps${cam}`)! - FPS) <= 3, `capture fps ${during.get(`camfan_capture_fps${cam}`)}`);
    assert.ok(during.get(`camfan_capture_encode_seconds${cam}`)! > 0);
    assert.equal(during.get(`camfan_capture_live${cam}`), 1);
    assert.equal(during.get('camfan_redis_ready'), 1);
    assert.ok(during.has('camfan_redis_reconnects_total') && during.has('camfan_bus_malformed_total'));
    assert.ok(during.get('camfan_gateway_process_resident_memory_bytes')! > 0);
  });

  test('the page at / shows the default camera', async () => {
    const r = await fetch(`${gateway.base}/`);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /<a href="\/video_feed">default camera \(cam0\)<\/a>/);
    assert.match(html, /<script type="module" src="\/page\/main.js"><\/script>/);
    const script = await fetch(`${gateway.base}/page/main.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
  });

  test('SIGTERM: the gateway ends its streams and exits 0 within its deadline; so does a capture', async () => {
    const gw = await startGateway({ REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '3000' });
    const s = openStream(`${gw.base}/video_feed`);
    await waitFor('frames', () => s.count >= 2, 5000);
    const t0 = Date.now();
    assert.equal(await gw.stop(), 0);
    await s.closed;
    assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms`);
    assert.match(gw.output(), /shutdown complete/);
    const cap = startCapture({ REDIS_URL: redis.url, CAMERA_ID: 'shortlived', CAPTURE_SOURCE: 'test' });
    await waitForFrames(redis, 'shortlived');
    assert.equal(await cap.stop(), 0);
    assert.match(cap.output(), /shutdown complete/);
  });

  test('a viewer is subscribed only while watching', async () => {
    const sub = redis.client();
    const count = async (): Promise<number> => ((await sub.call('PUBSUB', 'NUMSUB', 'camfan:{clip}:frames')) as [string, number])[1];
    const s = openStream(`${gateway.base}/stream/clip`);
    await waitFor('subscribed', async () => (await count()) === 1, 3000);
    s.close();
    await waitFor('unsubscribed after the linger', async () => (await count()) === 0, 5000);
  });
});

describe('refusals at start-up', () => {
  test('a bad setting exits with a message naming it and the allowed values', async () => {
    const cap = startCapture({ JPEG_QUALITY: '500', REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(await cap.exited, 2);
    assert.match(cap.output(), /JPEG_QUALITY \(--jpeg-quality\) = "500" is invalid: expected a whole number from 1 to 100/);
    const cap2 = startCapture({ CAPTURE_SOURCE: '/no/such.mp4', REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(await cap2.exited, 2);
    assert.match(cap2.output(), /CAPTURE_SOURCE .* no such file/);
  });

  test('a port taken by another program: the gateway exits naming PORT', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    const gw = startCaptureLike('gateway', { PORT: String(port), HOST: '127.0.0.1' });
    assert.equal(await gw.exited, 1);
    assert.match(gw.output(), new RegExp(`PORT \\(--port\\) = ${port}: cannot listen on 127\\.0\\.0\\.1:${port}`));
    blocker.close();
  });

  test('the gateway refuses to run on the pure-JS uWebSockets.js fallback', async () => {
    const gw = startGatewayRaw({ UWS_USE_FALLBACK: '1' });
    assert.equal(await gw.exited, 1);
    assert.match(gw.output(), /pure-JS fallback instead of the native binary.*refusing to start/);
  });
});

function startGatewayRaw(env: Record<string, string>): Proc {
  // startGateway waits for /healthz; here the process must exit before listening.
  return startCaptureLike('gateway', env);
}

import { run, DIST } from '../../harness/procs.js';
function startCaptureLike(app: 'gateway', env: Record<string, string>): Proc {
  return run(process.execPath, [path.join(DIST, app, 'main.js')], { PORT: '1', REDIS_URL: 'redis://127.0.0.1:1', ...env });
}
