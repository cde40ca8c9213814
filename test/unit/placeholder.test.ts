import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { isJpeg } from '../../bus/frame.js';
import { describeAge, renderNoSignal } from '../../gateway/placeholder.js';

test('the "no signal" picture is a 320x180 JPEG with red text on grey', () => {
  const img = renderNoSignal(12_000);
  assert.ok(isJpeg(img));
  const { width, height, data } = jpeg.decode(img);
  assert.deepEqual([width, height], [320, 180]);
  let red = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i]! > 180 && data[i + 1]! < 120) red++;
  assert.ok(red > 500, `${red} red pixels of NO SIGNAL`);
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
