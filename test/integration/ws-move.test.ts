/**
 * A gateway that shuts down (a deploy, a scale-in) tells each /ws page to move before it stops delivering:
 * the page opens a new socket (the balancer — here SO_REUSEPORT on one port — gives it to another gateway,
 * since this one no longer accepts) and closes the old one when the new one is open. Viewers following
 * that rule see no gap over a second, and the old gateway keeps delivering until they have moved.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { decodeFrame } from '../../bus/frame.js';
import { startCapture, startGateway, startRedis, waitFor, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';

/** What the page's FrameSocket does (gateway/page/client/socket.ts), in Node. */
class FollowingViewer {
  frames = 0;
  moves = 0;
  maxGapMs = 0;
  lastFrameAt = 0;
  measuring = false;
  private ws: WebSocket | null = null;

  constructor(private readonly url: string) {}

  open(replacing: WebSocket | null = null): Promise<void> {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString()) as { move?: string };
        if (m.move !== undefined && ws === this.ws) {
          this.moves++;
          void this.open(ws);
        }
        return;
      }
      if (decodeFrame(Buffer.from(data)).camera !== 'cam') return;
      const now = Date.now();
      if (this.measuring && this.lastFrameAt > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastFrameAt);
      this.lastFrameAt = now;
      this.frames++;
    });
    ws.on('error', () => undefined);
    return new Promise((resolve) =>
      ws.once('open', () => {
        ws.send(JSON.stringify({ subscribe: 'cam' }));
        replacing?.close();
        resolve();
      }),
    );
  }

  close(): void {
    this.ws?.terminate();
  }
}

let redis: RedisHandle;
let capture: Proc;
const gateways: GatewayHandle[] = [];
const viewers: FollowingViewer[] = [];

before(async () => {
  redis = await startRedis();
  capture = startCapture({ REDIS_URL: redis.url, CAMERA_ID: 'cam', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '10' });
  await waitForFrames(redis, 'cam');
});

after(async () => {
  for (const v of viewers) v.close();
  await Promise.all([...gateways.map((g) => g.stop()), capture?.stop()]);
  await redis?.stop();
});

test('a gateway shutting down moves its /ws viewers to another gateway with no gap over a second', async () => {
  const old = await startGateway({ REDIS_URL: redis.url });
  gateways.push(old);
  const url = `${old.base.replace('http://', 'ws://')}/ws`;
  // Every viewer is on the old gateway: the new one starts on the same port only afterwards.
  for (let i = 0; i < 10; i++) {
    const v = new FollowingViewer(url);
    await v.open();
    viewers.push(v);
  }
  await waitFor('frames to every viewer', () => viewers.every((v) => v.frames >= 3), 10000);
  gateways.push(await startGateway({ REDIS_URL: redis.url, PORT: String(old.port) }));
  for (const v of viewers) v.measuring = true;
  const code = await old.stop();
  assert.equal(code, 0, `the old gateway shut down cleanly: ${old.output().slice(-500)}`);
  const framesAtExit = viewers.map((v) => v.frames);
  await waitFor('frames from the new gateway', () => viewers.every((v, i) => v.frames >= framesAtExit[i]! + 5), 10000);
  assert.deepEqual(
    viewers.map((v) => v.moves),
    viewers.map(() => 1),
    'each viewer was told to move once',
  );
  const gaps = viewers.map((v) => v.maxGapMs);
  assert.ok(Math.max(...gaps) < 1000, `largest gap per viewer (ms): ${gaps.join(', ')}`);
});
