/**
 * When the capture passes a camera's JPEG through and when it encodes, and the V4L2 MJPEG negotiation
 * with its fallback. No camera exists here: these are the decisions, fed with what OpenCV would report.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCaptureConfig } from '../../capture/config.js';
import { decideOutput, mayPassThrough, type OutputPolicy } from '../../capture/output.js';
import { parseSourceSpec } from '../../capture/source/kinds/source.js';
import { classifyDeviceFrame, fourccCode, fourccName, FOURCC_MJPG, negotiateMjpeg } from '../../capture/source/kinds/v4l2.js';
import { fakeJpeg } from '../helpers/jpeg-bytes.js';

const policy = (p: Partial<OutputPolicy>): OutputPolicy => ({ passthrough: 'auto', width: 'source', height: 'source', jpegQuality: null, ...p });
const jpeg720 = { width: 1280, height: 720, hasJpeg: true };

test('auto passes through only when nothing asks for another picture', () => {
  assert.equal(decideOutput(policy({}), jpeg720).mode, 'passthrough');
  assert.equal(decideOutput(policy({ width: 1280, height: 720 }), jpeg720).mode, 'passthrough');
  const resized = decideOutput(policy({ width: 640, height: 480 }), jpeg720);
  assert.deepEqual(resized, {
    mode: 'transcode',
    reason: 'the camera sends 1280x720, CAPTURE_WIDTH/HEIGHT ask for 640x480',
    width: 640,
    height: 480,
    quality: 80,
  });
  const half = decideOutput(policy({ width: 640 }), jpeg720);
  assert.ok(half.mode === 'transcode' && half.width === 640 && half.height === 720, 'height left to the source');
  const quality = decideOutput(policy({ jpegQuality: 95 }), jpeg720);
  assert.ok(quality.mode === 'transcode' && quality.quality === 95 && quality.width === 1280, quality.reason);
  const decoded = decideOutput(policy({}), { ...jpeg720, hasJpeg: false });
  assert.ok(decoded.mode === 'transcode' && decoded.quality === 80 && decoded.width === 1280);
});

test('on and off force the mode; on cannot make JPEG out of decoded frames', () => {
  assert.equal(decideOutput(policy({ passthrough: 'off' }), jpeg720).mode, 'transcode');
  assert.equal(decideOutput(policy({ passthrough: 'on', width: 640, height: 480, jpegQuality: 50 }), jpeg720).mode, 'passthrough');
  assert.equal(decideOutput(policy({ passthrough: 'on' }), { ...jpeg720, hasJpeg: false }).mode, 'transcode');
  assert.equal(mayPassThrough(parseSourceSpec('http://cam/video.mjpg')), true);
  assert.equal(mayPassThrough(parseSourceSpec('/dev/video0')), true);
  assert.equal(mayPassThrough(parseSourceSpec('rtsp://cam/stream')), false);
  assert.equal(mayPassThrough(parseSourceSpec('test')), false);
});

test('settings: CAPTURE_PASSTHROUGH, CAPTURE_WIDTH/HEIGHT=source, JPEG_QUALITY unset by default', () => {
  const d = loadCaptureConfig({}, []);
  assert.deepEqual([d.passthrough, d.width, d.height, d.jpegQuality], ['auto', 640, 480, null]);
  const s = loadCaptureConfig({ CAPTURE_PASSTHROUGH: 'off', CAPTURE_WIDTH: 'source', CAPTURE_HEIGHT: 'source', JPEG_QUALITY: '90' }, []);
  assert.deepEqual([s.passthrough, s.width, s.height, s.jpegQuality], ['off', 'source', 'source', 90]);
  assert.throws(() => loadCaptureConfig({ CAPTURE_PASSTHROUGH: 'yes' }, []), /CAPTURE_PASSTHROUGH .* expected one of auto, on, off/);
  assert.throws(() => loadCaptureConfig({ CAPTURE_WIDTH: 'native' }, []), /CAPTURE_WIDTH .* expected source or a whole number from 16 to 7680/);
});

test('V4L2: the raw MJPEG buffer is used only when OpenCV reports MJPG with CONVERT_RGB off', () => {
  assert.equal(fourccName(FOURCC_MJPG), 'MJPG');
  assert.equal(fourccCode('YUYV'), 0x56595559);
  assert.deepEqual(negotiateMjpeg(true, { fourcc: FOURCC_MJPG, convertRgb: 0 }).raw, true);
  // OpenCV returns properties as doubles.
  assert.equal(negotiateMjpeg(true, { fourcc: FOURCC_MJPG + 0.0, convertRgb: 0 }).raw, true);
  const yuyv = negotiateMjpeg(true, { fourcc: fourccCode('YUYV'), convertRgb: 0 });
  assert.deepEqual(yuyv, { raw: false, note: 'decoded frames: the camera delivers YUYV, not MJPG' });
  assert.match(negotiateMjpeg(true, { fourcc: FOURCC_MJPG, convertRgb: 1 }).note, /CONVERT_RGB stays on/);
  assert.match(negotiateMjpeg(true, null).note, /refused/);
  assert.match(negotiateMjpeg(false, { fourcc: FOURCC_MJPG, convertRgb: 0 }).note, /CAPTURE_PASSTHROUGH=off/);
});

test('V4L2: each frame is the camera JPEG, a JPEG to decode, a decoded picture, or broken', () => {
  const j = fakeJpeg(1280, 720);
  const raw = (buf: Buffer): { rows: number; cols: number; channels: number } => ({ rows: 1, cols: buf.length, channels: 1 });
  const ok = classifyDeviceFrame(raw(j), () => j);
  assert.ok(ok.kind === 'jpeg' && ok.jpeg.equals(j) && ok.info.width === 1280 && ok.info.height === 720);
  // The whole driver buffer with zeros after EOI (older OpenCV): trimmed to the JPEG.
  const padded = Buffer.concat([j, Buffer.alloc(4096)]);
  const trimmed = classifyDeviceFrame(raw(padded), () => padded);
  assert.ok(trimmed.kind === 'jpeg' && trimmed.jpeg.equals(j));
  const noTables = fakeJpeg(640, 480, { huffman: false });
  const abbreviated = classifyDeviceFrame(raw(noTables), () => noTables);
  assert.ok(abbreviated.kind === 'jpeg-to-decode' && /Huffman/.test(abbreviated.reason));
  let read = false;
  const bgr = classifyDeviceFrame({ rows: 720, cols: 1280, channels: 3 }, () => {
    read = true;
    return Buffer.alloc(0);
  });
  assert.equal(bgr.kind, 'decoded');
  assert.equal(read, false, 'a decoded picture is not copied out to be inspected');
  const cut = j.subarray(0, j.length - 10);
  const broken = classifyDeviceFrame(raw(cut), () => cut);
  assert.ok(broken.kind === 'broken' && /not a whole JPEG/.test(broken.reason));
});
