/**
 * In a real browser (Debian's Chromium): a gateway host that dies says nothing — no FIN, no RST reaches the
 * page, because the balancer holds the page's connection and just passes nothing on. Here a TCP proxy stands
 * in for that balancer: it freezes the page's connection (keeps it open, forwards nothing either way) while
 * new connections get through to a live gateway. The page must take the silent socket as dead (no frame and
 * no beat past lib/wire/liveness.mts's limit), open a new one and show frames again within 3 s; and a
 * socket that is merely quiet (a 2 fps camera: the gateway beats in between) is never dropped.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sleep, startCapture, startGateway, startRedis, waitFor, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';
import { launchPlaywrightChromium } from './browsers.js';

/** A balancer that can lose its upstream without a word: freeze() stops every current connection dead. */
class FreezableProxy {
  private readonly pairs: Array<[net.Socket, net.Socket]> = [];
  private readonly server: net.Server;
  port = 0;

  constructor(private readonly upstreamPort: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.upstreamPort, '127.0.0.1');
      for (const s of [client, upstream]) s.on('error', () => undefined);
      client.pipe(upstream);
      upstream.pipe(client);
      this.pairs.push([client, upstream]);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Every open connection goes silent both ways and stays open, as behind a balancer whose upstream died. */
  freeze(): void {
    for (const [client, upstream] of this.pairs.splice(0)) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      frozen.push(client, upstream);
    }
  }

  close(): void {
    for (const s of frozen.splice(0)) s.destroy();
    for (const pair of this.pairs.splice(0)) for (const s of pair) s.destroy();
    this.server.close();
  }
}
const frozen: net.Socket[] = [];

interface PageSocketStats {
  connects: number;
  silentDrops: number;
  frames: number;
}

function pageStats(page: Page): Promise<PageSocketStats> {
  return page.evaluate(() => {
    const c = (window as unknown as { camfan: { stats: { connects: number; silentDrops: number }; frames: () => number } }).camfan;
    return { connects: c.stats.connects, silentDrops: c.stats.silentDrops, frames: c.frames() };
  });
}

describe('browser: a /ws socket that goes silent is replaced', () => {
  let redis: RedisHandle;
  const captures: Proc[] = [];
  let gateway: GatewayHandle;
  let proxy: FreezableProxy;
  let browser: Browser;
  let camera: (id: string, fps: number) => Proc;

  before(async () => {
    redis = await startRedis();
    camera = (id: string, fps: number): Proc =>
      startCapture({ REDIS_URL: redis.url, CAMERA_ID: id, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '160', CAPTURE_HEIGHT: '120', CAPTURE_FPS: String(fps) });
    captures.push(camera('slow', 2));
    await waitForFrames(redis, 'slow');
    gateway = await startGateway({ REDIS_URL: redis.url });
    proxy = new FreezableProxy(gateway.port);
    await proxy.listen();
    browser = await launchPlaywrightChromium();
  });

  after(async () => {
    await browser?.close();
    proxy?.close();
    await Promise.all([gateway?.stop(), ...captures.map((c) => c.stop())]);
    await redis?.stop();
  });

  test('a socket with only a 2 fps camera is kept; a frozen one is dropped and frames are back within 3 s', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${proxy.port}/`);
    await waitFor('frames of the slow camera', async () => (await pageStats(page)).frames >= 2, 10000, 100);
    await sleep(3000);
    const quiet = await pageStats(page);
    assert.deepEqual([quiet.connects, quiet.silentDrops], [1, 0], 'a quiet socket is not taken for a dead one');

    // A 10 fps camera joins (the page finds it in its camera list within 2 s): its frames come every 100 ms.
    captures.push(camera('fast', 10));
    const atJoin = quiet.frames;
    await waitFor('frames of the fast camera', async () => (await pageStats(page)).frames >= atJoin + 10, 10000, 100);
    const before = await pageStats(page);
    const frozeAt = Date.now();
    proxy.freeze();
    await waitFor(
      'frames again on a new socket',
      async () => {
        const now = await pageStats(page);
        return now.connects === before.connects + 1 && now.frames > before.frames + 1;
      },
      5000,
      20,
    );
    const backMs = Date.now() - frozeAt;
    console.log(`# frames again ${backMs} ms after the page's connection went silent`);
    const after = await pageStats(page);
    assert.equal(after.silentDrops, 1, 'dropped once, as silent');
    // 1 s of silence, checked every 200 ms, a 250–750 ms jittered wait, a connect and a frame: ~2 s; 3 s is the goal.
    assert.ok(backMs < 3000, `frames again after ${backMs} ms`);
    await page.close();
  });
  // The page acknowledges a frame once it has drawn it, so the gateway's age at acknowledgement
  // (camfan_viewer_ack_age_seconds) is what the page showed, plus one network leg (here loopback).
  test("the gateway's age at acknowledgement is the age the page measured when it drew the frame", async () => {
    const page = await browser.newPage();
    await page.goto(`${gateway.base}/`);
    await waitFor('frames of the fast camera', async () => (await pageStats(page)).frames >= 10, 10000, 100);
    const ackAge = async (): Promise<{ sum: number; count: number }> => {
      const text = await (await fetch(`${gateway.base}/metrics`)).text();
      const read = (name: string): number => Number(new RegExp(`^${name}\\{camera="fast"\\} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
      return { sum: read('camfan_viewer_ack_age_seconds_sum'), count: read('camfan_viewer_ack_age_seconds_count') };
    };
    const before = await ackAge();
    // What the page measured at each draw: the tile's latency (now − capture time), once per new frame.
    const pageAges = await page.evaluate(
      () =>
        new Promise<number[]>((resolve) => {
          const tile = (window as unknown as { camfan: { tiles: Map<string, { framesTotal: number; latencyMs: number | null }> } }).camfan.tiles.get('fast')!;
          const ages: number[] = [];
          let seen = tile.framesTotal;
          const until = performance.now() + 4000;
          const poll = (): void => {
            if (tile.framesTotal !== seen && tile.latencyMs !== null) ages.push(tile.latencyMs);
            seen = tile.framesTotal;
            if (performance.now() < until) requestAnimationFrame(poll);
            else resolve(ages);
          };
          requestAnimationFrame(poll);
        }),
      undefined,
    );
    await sleep(200);
    const after = await ackAge();
    const count = after.count - before.count;
    const gatewayMs = ((after.sum - before.sum) / count) * 1000;
    const pageMs = pageAges.reduce((a, b) => a + b, 0) / pageAges.length;
    console.log(
      `# age at acknowledgement: gateway ${gatewayMs.toFixed(1)} ms over ${count} acks; the page at drawing: ${pageMs.toFixed(1)} ms over ${pageAges.length} frames`,
    );
    assert.ok(pageAges.length >= 20 && count >= 20, `frames drawn ${pageAges.length}, acks ${count}`);
    // The acknowledgement leaves after the draw, so the gateway's figure is the page's plus the way back.
    assert.ok(gatewayMs >= pageMs - 5 && gatewayMs <= pageMs + 30, `gateway ${gatewayMs.toFixed(1)} ms, page ${pageMs.toFixed(1)} ms`);
    await page.close();
  });
});
