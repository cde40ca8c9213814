/**
 * The "no signal" picture a gateway sends its viewers, about once a second, while a watched camera has no
 * live frame (its capture crashed, its camera is gone, or Redis is down), as µStreamer does: viewers stay
 * connected and see how long ago the last frame was. Drawn here with a 5×7 bitmap font and encoded by
 * gray-jpeg.ts, because the gateway has no OpenCV and the capture may be the part that is dead.
 */
import { encodeGrayJpeg } from './gray-jpeg.js';

const W = 640;
const H = 360;

// 5×7 glyphs, one 5-bit row per number, top to bottom.
const FONT: Record<string, number[]> = {
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [30, 17, 17, 17, 17, 17, 30],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 17, 10, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  '0': [14, 17, 19, 21, 25, 17, 14],
  '1': [4, 12, 4, 4, 4, 4, 14],
  '2': [14, 17, 1, 2, 4, 8, 31],
  '3': [31, 2, 4, 2, 1, 17, 14],
  '4': [2, 6, 10, 18, 31, 2, 2],
  '5': [31, 16, 30, 1, 1, 17, 14],
  '6': [6, 8, 16, 30, 17, 17, 14],
  '7': [31, 1, 2, 4, 8, 8, 8],
  '8': [14, 17, 17, 14, 17, 17, 14],
  '9': [14, 17, 17, 15, 1, 2, 12],
  '-': [0, 0, 0, 31, 0, 0, 0],
  _: [0, 0, 0, 0, 0, 0, 31],
  ':': [0, 12, 12, 0, 12, 12, 0],
  '.': [0, 0, 0, 0, 0, 12, 12],
  ' ': [0, 0, 0, 0, 0, 0, 0],
};

function drawText(gray: Uint8Array, text: string, centerY: number, scale: number, level: number): void {
  const glyphs = [...text.toUpperCase()].map((c) => FONT[c] ?? FONT[' ']!);
  const advance = 6 * scale;
  let x0 = Math.max(0, Math.floor((W - glyphs.length * advance + scale) / 2));
  const y0 = Math.floor(centerY - (7 * scale) / 2);
  for (const rows of glyphs) {
    rows.forEach((bits, row) => {
      for (let col = 0; col < 5; col++) {
        if (!(bits & (16 >> col))) continue;
        for (let dy = 0; dy < scale; dy++) {
          const y = y0 + row * scale + dy;
          if (y < 0 || y >= H) continue;
          for (let dx = 0; dx < scale; dx++) {
            const x = x0 + col * scale + dx;
            if (x < 0 || x >= W) continue;
            gray[y * W + x] = level;
          }
        }
      }
    });
    x0 += advance;
  }
}

/** Coarse on purpose: each distinct text costs a JPEG encode in JS (tens of ms), so the text changes rarely. */
export function describeAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 5) return `${s} S`;
  if (s < 60) return `${s - (s % 5)} S`;
  if (s < 7200) return `${Math.floor(s / 60)} MIN`;
  return `${Math.floor(s / 3600)} H`;
}

/** A 640×360 greyscale JPEG: NO SIGNAL and how long ago the last frame was. */
function render(age: string): Buffer {
  const gray = new Uint8Array(W * H).fill(0x20);
  drawText(gray, 'NO SIGNAL', H * 0.4, 8, 235);
  drawText(gray, age, H * 0.7, 3, 190);
  return encodeGrayJpeg(gray, W, H, 75);
}

const CACHE_MAX = 256;
const cache = new Map<string, Buffer>();

/**
 * The picture for an age (null: no frame seen here yet), from a small cache shared by all cameras. The
 * camera is not drawn (its viewers know it from the URL or the page's caption, and the JPEG comment names
 * it), so when Redis goes away and every camera goes dark at once, one picture serves them all; and as
 * ages are coarse, the gateway encodes a few dozen pictures an hour, not one per camera per second.
 */
export function renderNoSignal(sinceLastFrameMs: number | null): Buffer {
  const age = sinceLastFrameMs === null ? 'NO FRAME YET' : `LAST FRAME ${describeAge(sinceLastFrameMs)} AGO`;
  let jpegBytes = cache.get(age);
  if (jpegBytes) {
    cache.delete(age); // re-insert: Map order is the LRU order
  } else {
    jpegBytes = render(age);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  }
  cache.set(age, jpegBytes);
  return jpegBytes;
}

export const PLACEHOLDER_SIZE = { width: W, height: H };
