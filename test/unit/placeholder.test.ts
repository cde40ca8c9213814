import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { isJpeg } from '../../bus/frame.js';
import { describeAge, renderNoSignal } from '../../gateway/placeholder.js';

test('the "no signal" picture is a 640x360 JPEG with red text on grey', () => {
  const img = renderNoSignal('lobby', 12_000);
  assert.ok(isJpeg(img));
  const { width, height, data } = jpeg.decode(img);
  assert.deepEqual([width, height], [640, 360]);
  let red = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i]! > 180 && data[i + 1]! < 120) red++;
  assert.ok(red > 2000, `${red} red pixels of NO SIGNAL`);
});

test('ages read naturally', () => {
  assert.equal(describeAge(12_400), '12 S');
  assert.equal(describeAge(185_000), '3 MIN');
  assert.equal(describeAge(3 * 3600_000), '3 H');
});
