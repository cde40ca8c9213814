/**
 * Faults injected for real: Redis killed and restarted on its port, a capture killed and restarted,
 * 10,000 viewers connecting and leaving, and a few thousand malformed requests. The gateway keeps its
 * viewers, recovers by itself and ends where it started (file descriptors, memory, subscriptions).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { rssBytes } from '../../harness/stats.js';
import { isJpeg } from '../../bus/frame.js';
import { openStream } from '../../harness/mjpeg-client.js';
import {
  cameraEntry,
  run,
  sleep,
  startCapture,
  startGateway,
  startRedis,
  waitFor,
  waitForFrames,
  type GatewayHandle,
  type Proc,
  type RedisHandle,
} from '../../harness/procs.js';

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

describe('faults', () => {
  let redis: RedisHandle;
  let gateway: GatewayHandle;
  let capture: Proc;
  let restartedRedis: Proc | null = null;
  const captureEnv = (url: string): Record<string, string> => ({
    REDIS_URL: url,
    CAMERA_ID: 'cam0',
    CAPTURE_SOURCE: 'test',
    CAPTURE_WIDTH: '320',
    CAPTURE_HEIGHT: '240',
    CAPTURE_FPS: '15',
    IDLE_FPS: '0',
  });

  before(async () => {
    redis = await startRedis();
    capture = startCapture(captureEnv(redis.url));
    gateway = await startGateway({ REDIS_URL: redis.url, UNSUBSCRIBE_LINGER_MS: '100', REQUEST_RATE_PER_IP: '0' /* 10,000 viewers from one address */ });
    await waitForFrames(redis, 'cam0');
  });

  after(async () => {
    await Promise.all([gateway?.stop(), capture?.stop()]);
    await redis?.stop();
    await restartedRedis?.stop();
  });

  test('Redis killed and restarted: viewers stay connected, /readyz says so, frames resume within 2 s', async () => {
    const s = openStream(`${gateway.base}/video_feed`);
    await waitFor('frames', () => s.count >= 3, 5000);
    redis.child.kill('SIGKILL');
    await redis.exited;
    await waitFor('/readyz 503', async () => (await fetch(`${gateway.base}/readyz`)).status === 503, 5000);
    await sleep(1500);
    const before = s.count;
    restartedRedis = run('redis-server', ['--port', String(redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const back = Date.now();
    {
      await waitFor('frames again', () => s.count > before + 1, 10000, 10);
      const resumedMs = Date.now() - back;
      console.log(`# frames resumed ${resumedMs} ms after Redis came back`);
      assert.ok(resumedMs < 2000 + 300, `frames resumed after ${resumedMs} ms`); // 300 ms for redis-server itself to start
      await waitFor('/readyz 200', async () => (await fetch(`${gateway.base}/readyz`)).status === 200, 3000);
      assert.equal(gateway.child.exitCode, null, 'the gateway did not exit');
      assert.equal(capture.child.exitCode, null, 'the capture did not exit');
      assert.match(capture.output(), /cannot publish to Redis; dropping frames until it is back/);
      assert.match(gateway.output(), /redis connection lost, retrying/);
      s.close();
    }
  });

  test('capture killed: viewers stay connected and see "no signal"; live again within 3 s of its restart', async () => {
    const s = openStream(`${gateway.base}/video_feed`);
    await waitFor('frames', () => s.count >= 3, 5000);
    capture.child.kill('SIGKILL');
    await capture.exited;
    const noSignal = (p: { jpeg: Buffer }): boolean => p.jpeg.toString('latin1', 6, 120).includes(' nosignal');
    await waitFor('a "no signal" picture', () => s.parts.some(noSignal), 6000, 50);
    await sleep(1500);
    const placeholders = s.parts.filter(noSignal);
    assert.ok(placeholders.length >= 2, 'about one a second while the camera is down');
    assert.ok(placeholders.every((p) => isJpeg(p.jpeg)));
    const before = s.count;
    capture = startCapture(captureEnv(redis.url));
    const t0 = Date.now();
    await waitFor('live frames again', () => s.parts.slice(before).some((p) => !noSignal(p)), 10000, 10);
    const ms = Date.now() - t0;
    console.log(`# live again ${ms} ms after the capture was restarted (process start and OpenCV load included)`);
    assert.ok(ms < 3000, `live again after ${ms} ms`);
    assert.deepEqual(s.invalid, []);
    s.close();
  });

  test('10,000 viewers connecting and leaving leave fds, memory and subscriptions where they were', async () => {
    const pid = gateway.child.pid!;
    await sleep(300);
    const fd0 = fdCount(pid);
    const rss0 = rssBytes(pid);
    const total = 10_000;
    let done = 0;
    let failed = 0;
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const sock = connect(gateway.port, '127.0.0.1');
        sock.on('error', () => {
          failed++;
          resolve();
        });
        sock.once('data', () => sock.destroy());
        sock.on('close', () => resolve());
        sock.write('GET /video_feed HTTP/1.1\r\nHost: x\r\n\r\n');
      });
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (done < total) {
          done++;
          await one();
        }
      }),
    );
    console.log(`# ${total} connect/disconnect cycles in ${Date.now() - t0} ms, ${failed} failed`);
    assert.equal(failed, 0);
    // The gateway handles the last closes after the clients have gone: wait for them, not a fixed second.
    const viewersNow = async (): Promise<number> => ((await (await fetch(`${gateway.base}/api/stats`)).json()) as { viewers: unknown[] }).viewers.length;
    await waitFor('the last closes handled', async () => (await viewersNow()) === 0, 5000).catch(() => undefined);
    const fd1 = fdCount(pid);
    const rss1 = rssBytes(pid);
    assert.ok(fd1 <= fd0 + 2, `file descriptors ${fd0} -> ${fd1}`);
    assert.ok(rss1 - rss0 < 40 * 2 ** 20, `RSS ${((rss1 - rss0) / 2 ** 20).toFixed(1)} MB higher`);
    assert.equal(await viewersNow(), 0, 'no viewer left behind');
    const sub = redis.client();
    await waitFor('unsubscribed', async () => ((await sub.call('PUBSUB', 'NUMSUB', 'camfan:{cam0}:frames')) as [string, number])[1] === 0, 3000);
  });

  test('big frames: 4K frames stream whole; a frame over MAX_FRAME_BYTES is dropped and reported', async () => {
    const uhd = startCapture({ ...captureEnv(redis.url), CAMERA_ID: 'uhd', CAPTURE_WIDTH: '3840', CAPTURE_HEIGHT: '2160', CAPTURE_FPS: '5' });
    const big = startCapture({ ...captureEnv(redis.url), CAMERA_ID: 'toobig', CAPTURE_WIDTH: '640', CAPTURE_HEIGHT: '480', MAX_FRAME_BYTES: '2000' });
    try {
      await waitForFrames(redis, 'uhd', 20000);
      const s = openStream(`${gateway.base}/stream/uhd`);
      await waitFor('4K frames', () => s.count >= 4, 10000);
      s.close();
      assert.deepEqual(s.invalid, []);
      assert.ok(
        s.parts.every((p) => p.jpeg.length > 100_000),
        `4K JPEGs of ${s.parts.map((p) => p.jpeg.length).join(', ')} bytes`,
      );
      await waitFor('the drop reported', () => /frame larger than MAX_FRAME_BYTES dropped/.test(big.output()), 10000);
      assert.equal(await redis.client().exists('camfan:{toobig}:latest'), 0, 'nothing published');
      assert.equal(gateway.child.exitCode, null);
    } finally {
      await Promise.all([uhd.stop(), big.stop()]);
    }
  });

  test('a few thousand malformed requests: each is refused or closed, and the gateway still serves', async () => {
    const junk = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(Math.floor(Math.random() * 256))).join('');
    const requests = [
      'GET /snapshot/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /stream/%2e%2e%2f%2e%2e%2fetc HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /stream/${'ü'.repeat(40)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /stream/cam0?${'a=1&'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20000)}\r\n\r\n`,
      'GET /snapshot/cam0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE GARBAGE\r\n\r\n\x00\x01\x02',
      'BREW /coffee HTCPCP/1.0\r\n\r\n',
      'GET\r\n\r\n',
    ];
    const send = (payload: string | Buffer): Promise<string> =>
      new Promise((resolve) => {
        const sock = connect(gateway.port, '127.0.0.1');
        let got = '';
        sock.setTimeout(2000, () => sock.destroy());
        sock.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.length > 64) sock.destroy();
        });
        sock.on('error', () => undefined);
        sock.on('close', () => resolve(got.slice(0, 12)));
        sock.end(payload);
      });
    const answers = new Map<string, number>();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (sent < 3000) {
          const i = sent++;
          const payload =
            i % 3 === 0 ? requests[i % requests.length]! : i % 3 === 1 ? `GET /${junk(30)} HTTP/1.1\r\nHost: x\r\n\r\n` : Buffer.from(junk(200), 'latin1');
          const status = (await send(payload)).slice(9, 12) || 'closed';
          answers.set(status, (answers.get(status) ?? 0) + 1);
        }
      }),
    );
    console.log(`# 3000 malformed requests answered: ${[...answers].map(([k, v]) => `${k}×${v}`).join(', ')}`);
    for (const status of answers.keys()) assert.match(status, /^(4\d\d|200|closed)$/, `answer ${status}`);
    // Slowloris: a header that never ends does not hold the gateway up.
    const slow = connect(gateway.port, '127.0.0.1');
    slow.on('error', () => undefined);
    slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const s = openStream(`${gateway.base}/video_feed`);
    await waitFor('a viewer is still served', () => s.count >= 3, 5000);
    s.close();
    slow.destroy();
    assert.equal(gateway.child.exitCode, null);
  });
});

describe('network source', () => {
  test('an http:// MJPEG source that goes away is reported, retried, and streams again when it is back', async () => {
    const redis = await startRedis();
    const upstreamCapture = startCapture({
      REDIS_URL: redis.url,
      CAMERA_ID: 'upstream',
      CAPTURE_SOURCE: 'test',
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      CAPTURE_FPS: '10',
      IDLE_FPS: '0',
    });
    let upstream = await startGateway({ REDIS_URL: redis.url });
    await waitForFrames(redis, 'upstream');
    // A second camera whose source is the first one's MJPEG stream, read by OpenCV's FFmpeg backend.
    const relay = startCapture({
      REDIS_URL: redis.url,
      CAMERA_ID: 'relay',
      CAPTURE_SOURCE: `${upstream.base}/stream/upstream?framing=classic`,
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      CAPTURE_FPS: '10',
      IDLE_FPS: '0',
      STALL_TIMEOUT_MS: '1500',
      RETRY_MAX_MS: '500',
    });
    try {
      await waitForFrames(redis, 'relay', 20000);
      const port = upstream.port;
      await upstream.stop();
      await waitFor('the relay reports its source failing', () => /source failed; retrying/.test(relay.output()), 15000, 100);
      assert.match(relay.output(), /stream http:\/\/127\.0\.0\.1:\d+\/stream\/upstream/);
      upstream = await startGateway({ REDIS_URL: redis.url, PORT: String(port) });
      const c = redis.client();
      const before = Number((await cameraEntry(c, 'relay'))!.lastFrameAt);
      await waitFor('relayed frames again', async () => Number((await cameraEntry(c, 'relay'))!.lastFrameAt) > before + 1000, 20000, 200);
      assert.equal(relay.child.exitCode, null);
    } finally {
      await Promise.all([relay.stop(), upstream.stop(), upstreamCapture.stop()]);
      await redis.stop();
    }
  });
});
