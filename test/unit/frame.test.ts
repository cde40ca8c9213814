import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodeFrame, FrameDecodeError, isJpeg, type Frame } from '../../bus/frame.js';

const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
const frame: Frame = { camera: 'lobby-1', seq: 123456789, timestamp: 1795620941382.25, width: 1280, height: 720, jpeg };

test('a frame survives encode/decode with every field', () => {
  const back = decodeFrame(encodeFrame(frame));
  assert.deepEqual({ ...back, jpeg: Buffer.from(back.jpeg) }, frame);
});

test('decoding does not copy the JPEG', () => {
  const msg = encodeFrame(frame);
  const back = decodeFrame(msg);
  assert.equal(back.jpeg.buffer, msg.buffer);
});

test('malformed messages are rejected with FrameDecodeError', () => {
  const good = encodeFrame(frame);
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['too short', good.subarray(0, 20)],
    ['bad magic', Buffer.concat([Buffer.from('XX'), good.subarray(2)])],
    ['future version', Buffer.from(good).fill(2, 2, 3)],
    ['zero-length id', Buffer.from(good).fill(0, 3, 4)],
    ['id longer than message', Buffer.from(good).fill(250, 3, 4)],
    ['truncated JPEG', good.subarray(0, good.length - 1)],
    ['not a JPEG', encodeFrame({ ...frame, jpeg: Buffer.from('hello world') })],
    ['bad camera id', encodeFrame({ ...frame, camera: 'a/b' })],
    ['negative seq', encodeFrame({ ...frame, seq: -1 })],
    ['NaN timestamp', encodeFrame({ ...frame, timestamp: Number.NaN })],
  ];
  for (const [name, msg] of cases) {
    assert.throws(() => decodeFrame(msg), FrameDecodeError, name);
  }
});

test('isJpeg checks SOI and EOI', () => {
  assert.equal(isJpeg(jpeg), true);
  assert.equal(isJpeg(jpeg.subarray(0, 5)), false);
  assert.equal(isJpeg(Buffer.from([0xff, 0xd8])), false);
});
