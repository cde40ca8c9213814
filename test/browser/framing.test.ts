/**
 * What Chromium and Firefox paint of an <img> MJPEG stream, and when (does framing decide when a frame is painted?), for both framings
 * (gateway/delivery/packet.ts): the page shows one /stream/cam0 <img>; the test takes small screenshots as fast as
 * the browser gives them and reads the frame number from the test pattern's top-edge blocks, while an
 * independent client of the same camera records each frame's capture time. The delay from capture to the
 * first screenshot showing a frame tells whether the browser paints a part on arrival (advance) or only
 * once the next part's delimiter arrives (classic: one frame interval later). Screenshots are taken from
 * outside the page (what is really painted), so this works in Firefox too, whose canvas drawImage of a
 * multipart <img> only ever returns the first part.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jpeg from 'jpeg-js';
import { SEQ_BITS, seqBlockSize } from '../../capture/source/kinds/seq-blocks.js';
import { openStream } from '../../harness/mjpeg-client.js';
import { BROWSERS, launch, type TestBrowser } from './browsers.js';
import { startWall, type Wall } from './wall-fixture.js';

const WIDTH = 640;
const FPS = 5;
const INTERVAL = 1000 / FPS;

/** The frame number in a screenshot of the top-edge blocks. */
function readSeq(shot: Buffer, b: number): number {
  const img = jpeg.decode(shot, { useTArray: true });
  let seq = 0;
  for (let bit = 0; bit < SEQ_BITS; bit++) {
    const i = ((b >> 1) * img.width + bit * b + (b >> 1)) * 4;
    if (img.data[i]! + img.data[i + 1]! + img.data[i + 2]! > 3 * 128) seq += 2 ** bit;
  }
  return seq;
}

const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;

describe('<img> framing: what each browser paints, and when', () => {
  let wall: Wall;
  before(async () => {
    wall = await startWall([{ camera: 'cam0', width: WIDTH, height: 360, fps: FPS }]);
  });
  after(async () => {
    await wall?.stop();
  });

  for (const name of BROWSERS) {
    test(`${name}: advance framing is painted on arrival, classic one frame later`, async () => {
      const browser: TestBrowser = await launch(name);
      try {
        const page = await browser.newPage({ width: 800, height: 480 });
        const b = seqBlockSize(WIDTH);
        const result: Record<string, number> = {};
        for (const framing of ['advance', 'classic'] as const) {
          const captured = new Map<number, number>();
          const tap = openStream(`${wall.gateway.base}/stream/cam0?framing=classic`, {
            keepParts: false,
            onPart: (p) => captured.set(p.seq! % 2 ** SEQ_BITS, p.timestamp!),
          });
          await page.goto(`${wall.gateway.base}/healthz`);
          await page.evaluate((url) => {
            document.documentElement.innerHTML = `<body style="margin:0"><img style="display:block" src="${url}"></body>`;
          }, `/stream/cam0?framing=${framing}`);
          await page.waitFor('the stream painted', () => (document.querySelector('img') as HTMLImageElement).naturalWidth > 0, null);
          const seen = new Map<number, number>();
          let shots = 0;
          const until = Date.now() + 5000;
          while (Date.now() < until) {
            const t0 = Date.now();
            const shot = await page.shot({ x: 0, y: 0, width: b * SEQ_BITS, height: b });
            const t = (t0 + Date.now()) / 2;
            shots++;
            const seq = readSeq(shot, b);
            if (!seen.has(seq)) seen.set(seq, t);
          }
          tap.close();
          const delays = [...seen].slice(1).flatMap(([seq, t]) => (captured.has(seq) ? [t - captured.get(seq)!] : []));
          assert.ok(delays.length >= 10, `${framing}: matched ${delays.length} painted frames (${shots} screenshots)`);
          result[framing] = median(delays);
          result[`${framing}Shots`] = shots / 5;
        }
        console.log(
          `# ${name} <img> paint delay (capture -> first screenshot showing it), median: advance ${result.advance!.toFixed(0)} ms, classic ${result.classic!.toFixed(0)} ms; frame interval ${INTERVAL} ms; screenshots/s ${result.advanceShots!.toFixed(0)}`,
        );
        assert.ok(result.advance! < INTERVAL * 0.75, `advance painted ${result.advance!.toFixed(0)} ms after capture`);
        assert.ok(result.classic! > result.advance! + INTERVAL / 2, `classic ${result.classic!.toFixed(0)} ms vs advance ${result.advance!.toFixed(0)} ms`);
      } finally {
        await browser.close();
      }
    });
  }
});
