import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { isJpeg } from '../../bus/frame.js';
import { describeAge, renderNoSignal } from '../../gateway/no-signal/placeholder.js';
import { encodeGrayJpeg } from '../../gateway/no-signal/gray-jpeg.js';

test('the "no signal" picture is a 640x360 JPEG with light text on dark grey', () => {
  const img = renderNoSignal(12_000);
  assert.ok(isJpeg(img));
  const { width, height, data } = jpeg.decode(img);
  assert.deepEqual([width, height], [640, 360]);
  let light = 0;
  let dark = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i]! > 200 && data[i + 1]! > 200) light++;
    if (Math.abs(data[i]! - 0x20) < 6) dark++;
  }
  assert.ok(light > 5000, `${light} light pixels of NO SIGNAL`);
  assert.ok(dark > (data.length / 4) * 0.8, 'a dark grey background');
});

test('ages read naturally', () => {
  assert.equal(describeAge(3_400), '3 S');
  assert.equal(describeAge(12_400), '10 S');
  assert.equal(describeAge(65_000), '1 MIN');
  assert.equal(describeAge(185_000), '3 MIN');
  assert.equal(describeAge(3 * 3600_000), '3 H');
});

test('a picture already drawn is reused, not encoded again', () => {
  const a = renderNoSignal(31_000);
  const b = renderNoSignal(34_900);
  assert.equal(a, b, 'same text (30 S), same buffer, whichever camera asks');
  assert.notEqual(renderNoSignal(36_000), a);
});

test('the grey encoder: decodes (jpeg-js and ffmpeg) to the picture it was given', () => {
  // A gradient, a flat area, hard edges and a width and height that are not multiples of 8.
  const [w, h] = [203, 61];
  const gray = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) gray[y * w + x] = x < 60 ? 40 : x < 120 ? (x * 2 + y) & 0xff : (x >> 3) % 2 ? 250 : 5;
  const out = encodeGrayJpeg(gray, w, h, 90);
  assert.ok(isJpeg(out));
  const img = jpeg.decode(out);
  assert.deepEqual([img.width, img.height], [w, h]);
  let worst = 0;
  let sum = 0;
  for (let i = 0; i < w * h; i++) {
    const d = Math.abs(img.data[i * 4]! - gray[i]!);
    worst = Math.max(worst, d);
    sum += d;
  }
  assert.ok(sum / (w * h) < 3, `mean error ${(sum / (w * h)).toFixed(2)}`);
  assert.ok(worst < 80, `worst pixel error ${worst}`);
  // An independent, strict decoder: ffmpeg reports any entropy-coding error.
  const r = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', 'pipe:0', '-f', 'null', '-'], { input: out });
  assert.equal(r.error, undefined, 'ffmpeg is installed (sudo apt-get install -y ffmpeg)');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stderr.toString(), '');
});

test('what a "no signal" picture costs: this encoder against jpeg-js (printed, not asserted: timings are not tests)', () => {
  const [w, h] = [640, 360];
  const gray = new Uint8Array(w * h).fill(0x20);
  const rgba = Buffer.alloc(w * h * 4, 0x20);
  const time = (fn: () => void): number => {
    fn(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) fn();
    return (performance.now() - t0) / 5;
  };
  const ours = time(() => encodeGrayJpeg(gray, w, h, 75));
  const theirs = time(() => jpeg.encode({ data: rgba, width: w, height: h }, 75));
  console.log(`# 640x360 no-signal picture: gray-jpeg ${ours.toFixed(1)} ms, jpeg-js ${theirs.toFixed(1)} ms per encode`);
  assert.ok(isJpeg(encodeGrayJpeg(gray, w, h, 75)));
});
