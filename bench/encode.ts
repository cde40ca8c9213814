/** JPEG encode time per frame at common sizes, for the test pattern and for a detailed picture (ffmpeg testsrc2). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import cv, { type Mat } from '../capture/source/kinds/cv.js';
import { TestPatternSource } from '../capture/source/kinds/test-pattern.js';
import { median, percentile } from '../harness/stats.js';
import { makeClip } from '../harness/procs.js';

export interface EncodeResult {
  picture: 'test pattern' | 'testsrc2';
  size: string;
  quality: number;
  medianMs: number;
  p90Ms: number;
  bytes: number;
}

async function time(mats: Mat[], quality: number, rounds: number): Promise<{ ms: number[]; bytes: number[] }> {
  const ms: number[] = [];
  const bytes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const m of mats) {
      const t0 = performance.now();
      const jpeg = await cv.imencodeAsync('.jpg', m, [cv.IMWRITE_JPEG_QUALITY, quality]);
      ms.push(performance.now() - t0);
      bytes.push(jpeg.length);
    }
  }
  return { ms, bytes };
}

function clipFrames(width: number, height: number, count: number): Mat[] {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'camfan-bench-')), 'clip.avi');
  makeClip(file, 2, `${width}x${height}`, 30, 2);
  const cap = new cv.VideoCapture(file);
  const out: Mat[] = [];
  for (let i = 0; i < count; i++) out.push(cap.read());
  cap.release();
  return out;
}

export async function benchEncode(sizes: Array<[number, number]>, quality: number): Promise<EncodeResult[]> {
  const results: EncodeResult[] = [];
  for (const [w, h] of sizes) {
    const pattern = new TestPatternSource('bench', w, h);
    await pattern.open();
    const patternMats: Mat[] = [];
    for (let i = 0; i < 30; i++) patternMats.push(pattern.draw({ seq: i * 7, now: Date.now() }).copy());
    for (const [picture, mats] of [
      ['test pattern', patternMats],
      ['testsrc2', clipFrames(w, h, 30)],
    ] as const) {
      await time(mats.slice(0, 5), quality, 1); // warm-up
      const { ms, bytes } = await time(mats, quality, 3);
      results.push({ picture, size: `${w}x${h}`, quality, medianMs: median(ms), p90Ms: percentile(ms, 90), bytes: median(bytes) });
    }
  }
  return results;
}
