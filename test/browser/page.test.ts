/**
 * A real browser (Debian's Chromium driven by playwright-core): the page at / shows 8 cameras live over one
 * WebSocket (more than the ~6 HTTP/1.1 connections a browser opens per host), the <img> mode moves too, and,
 * measured on what Chromium *displays*, advance framing paints each frame on arrival while classic framing
 * paints it one frame interval late. The frame number is read from the camera's own pixels, so the grid is
 * opened with ?renditions=off (full-size pictures; a rendition's blocks have another size).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SEQ_BITS, seqBlockSize } from '../../capture/source/kinds/seq-blocks.js';
import { openStream } from '../../harness/mjpeg-client.js';
import { ROOT, sleep, startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';
import { launchPlaywrightChromium } from './browsers.js';

const WIDTH = 640;
const FPS = 5;

/** Runs in the page: reads the frame number an <img> or <canvas> currently shows from its top-edge blocks. */
function displayedSeq(img: HTMLImageElement | HTMLCanvasElement, b: number, bits: number): number | null {
  if (img instanceof HTMLImageElement ? !img.complete || img.naturalWidth === 0 : img.width === 0) return null;
  const c = document.createElement('canvas');
  c.width = b * bits;
  c.height = b;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  let seq = 0;
  for (let bit = 0; bit < bits; bit++) {
    const i = ((b >> 1) * c.width + bit * b + (b >> 1)) * 4;
    if (px[i]! + px[i + 1]! + px[i + 2]! > 3 * 128) seq += 2 ** bit;
  }
  return seq;
}

describe('browser', () => {
  let redis: RedisHandle;
  let gateway: GatewayHandle;
  const captures: Proc[] = [];
  const CAMERAS = ['cam0', 'cam1', 'cam2', 'cam3', 'cam4', 'cam5', 'cam6', 'cam7'];
  const SMALL = 160;
  let browser: Browser;
  let page: Page;

  before(async () => {
    redis = await startRedis();
    captures.push(
      startCapture({
        REDIS_URL: redis.url,
        CAMERA_ID: 'cam0',
        CAPTURE_SOURCE: 'test',
        CAPTURE_WIDTH: String(WIDTH),
        CAPTURE_HEIGHT: '360',
        CAPTURE_FPS: String(FPS),
      }),
    );
    for (const camera of CAMERAS.slice(1)) {
      captures.push(
        startCapture({
          REDIS_URL: redis.url,
          CAMERA_ID: camera,
          CAPTURE_SOURCE: 'test',
          CAPTURE_WIDTH: String(SMALL),
          CAPTURE_HEIGHT: '120',
          CAPTURE_FPS: '10',
        }),
      );
    }
    gateway = await startGateway({ REDIS_URL: redis.url });
    await Promise.all(CAMERAS.map((c) => waitForFrames(redis, c, 30000)));
    browser = await launchPlaywrightChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  });

  after(async () => {
    await browser?.close();
    await Promise.all([gateway?.stop(), ...captures.map((c) => c.stop())]);
    await redis?.stop();
  });

  /** The frame number each tile shows, read from its pixels. */
  async function tileSeqs(selector: 'canvas' | 'img'): Promise<Record<string, number | null>> {
    return page.evaluate(
      ([fn, sel, big, small, bits]) => {
        const read = new Function(`return (${fn})`)() as (el: Element, b: number, bits: number) => number | null;
        const out: Record<string, number | null> = {};
        for (const fig of document.querySelectorAll('figure')) {
          // ?view=img: the first tiles are <img> streams, the rest canvases over the WebSocket.
          const el = fig.querySelector(sel);
          if (!el) continue;
          const camera = (fig as HTMLElement).dataset.camera!;
          out[camera] = read(el, camera === 'cam0' ? big : small, bits);
        }
        return out;
      },
      [displayedSeq.toString(), selector, seqBlockSize(WIDTH), seqBlockSize(SMALL), SEQ_BITS] as const,
    );
  }

  test('the page shows 8 cameras live over one WebSocket: every canvas keeps changing', async () => {
    await page.goto(`${gateway.base}/?renditions=off`);
    await page.waitForFunction((n) => document.querySelectorAll('figure[data-state="live"]').length === n, CAMERAS.length, { timeout: 10000 });
    const first = await tileSeqs('canvas');
    await sleep(1500);
    const second = await tileSeqs('canvas');
    for (const camera of CAMERAS) {
      assert.ok(first[camera] !== null && second[camera] !== null, `${camera} drawn`);
      assert.ok(second[camera]! > first[camera]!, `${camera} went from #${first[camera]} to #${second[camera]}`);
    }
    const captions = await page.$$eval('figcaption .meta', (els) => els.map((e) => e.textContent ?? ''));
    assert.ok(
      captions.every((c) => /^\d+×\d+ · \d+ fps · \d+ ms$/.test(c)),
      `captions show size, fps and latency: ${captions.join(' | ')}`,
    );
    const dir = path.join(ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'page.png') });
    // Eight tiles on one screen (the layout fills the window), each canvas sized to its camera.
    const sizes = await page.$$eval('figure canvas', (els) => els.map((c) => `${(c as HTMLCanvasElement).width}×${(c as HTMLCanvasElement).height}`));
    assert.deepEqual(sizes, [`${WIDTH}×360`, ...CAMERAS.slice(1).map(() => `${SMALL}×120`)]);
  });

  test('the page keeps working across a gateway restart', async () => {
    await page.goto('about:blank');
    await page.goto(`${gateway.base}/?renditions=off`);
    await page.waitForFunction((n) => document.querySelectorAll('figure[data-state="live"]').length === n, CAMERAS.length, { timeout: 10000 });
    const port = gateway.port;
    await gateway.stop();
    await page.waitForFunction(() => !document.getElementById('banner')!.hidden, undefined, { timeout: 5000 });
    const before = await tileSeqs('canvas');
    gateway = await startGateway({ REDIS_URL: redis.url, PORT: String(port) });
    await page.waitForFunction(() => document.getElementById('banner')!.hidden, undefined, { timeout: 10000 });
    await sleep(1500);
    const after = await tileSeqs('canvas');
    for (const camera of CAMERAS) assert.ok(after[camera]! > before[camera]!, `${camera} live again: #${before[camera]} -> #${after[camera]}`);
  });

  test('the <img> mode (?view=img) streams too', async () => {
    await page.goto(`${gateway.base}/?view=img`);
    await page.waitForFunction(() => [...document.querySelectorAll('figure img')].some((i) => (i as HTMLImageElement).naturalWidth > 0), undefined, {
      timeout: 10000,
    });
    const first = await tileSeqs('img');
    await sleep(1500);
    const second = await tileSeqs('img');
    assert.ok(second.cam0! > first.cam0!, `cam0 <img> went from #${first.cam0} to #${second.cam0}`);
  });

  /** Median of (time Chromium first displays frame N) - (capture time of frame N). */
  async function displayLatency(framing: 'advance' | 'classic'): Promise<number> {
    const captured = new Map<number, number>();
    const tap = openStream(`${gateway.base}/stream/cam0?framing=classic`, {
      keepParts: false,
      onPart: (p) => captured.set(p.seq! % 2 ** SEQ_BITS, p.timestamp!),
    });
    // Leave any page of <img> streams first: they hold Chromium's 6 connections to this host.
    await page.goto('about:blank');
    await page.goto(`${gateway.base}/`);
    const shown: Array<[number, number]> = await page.evaluate(
      async ([fn, url, b, bits]) => {
        const read = new Function(`return (${fn})`)() as (img: HTMLImageElement, b: number, bits: number) => number | null;
        document.body.replaceChildren();
        const img = document.createElement('img');
        img.src = url;
        document.body.append(img);
        const out: Array<[number, number]> = [];
        let last: number | null = null;
        const until = performance.now() + 4000;
        while (performance.now() < until) {
          const seq = read(img, b, bits);
          if (seq !== null && seq !== last) out.push([seq, performance.timeOrigin + performance.now()]);
          last = seq;
          await new Promise((r) => setTimeout(r, 5));
        }
        return out;
      },
      [displayedSeq.toString(), `/stream/cam0?framing=${framing}`, seqBlockSize(WIDTH), SEQ_BITS] as const,
    );
    tap.close();
    const delays = shown.slice(1).flatMap(([seq, t]) => (captured.has(seq) ? [t - captured.get(seq)!] : []));
    assert.ok(delays.length >= FPS * 2, `matched ${delays.length} displayed frames`);
    delays.sort((a, c) => a - c);
    return delays[Math.floor(delays.length / 2)]!;
  }

  test('advance framing: Chromium displays each frame on arrival, not one frame late', async () => {
    const advance = await displayLatency('advance');
    const classic = await displayLatency('classic');
    const interval = 1000 / FPS;
    console.log(
      `# display latency (capture -> shown in Chromium), median: advance ${advance.toFixed(1)} ms, classic ${classic.toFixed(1)} ms, frame interval ${interval} ms`,
    );
    assert.ok(advance < interval / 2, `advance framing shows frames ${advance.toFixed(1)} ms after capture`);
    // The measurement can tell the two apart: classic waits for the next frame's delimiter.
    assert.ok(classic > advance + interval / 2, `classic ${classic.toFixed(1)} ms vs advance ${advance.toFixed(1)} ms`);
  });
});
