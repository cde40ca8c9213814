/**
 * The V4L2 camera's MJPEG, without decoding it: OpenCV's V4L2 backend hands out the driver's buffer as
 * it is (a 1×N Mat of bytes) when asked for the MJPG fourcc with CAP_PROP_CONVERT_RGB off. These are the
 * decisions around that, kept free of OpenCV so they can be unit-tested without a camera:
 *  - after the request, did OpenCV agree (fourcc read back as MJPG, CONVERT_RGB off)? If not, the camera
 *    has no MJPEG mode or this OpenCV cannot pass it on: fall back to decoded frames;
 *  - for each frame, is the Mat the compressed buffer, and is that a whole JPEG a browser can show?
 *    USB cameras often send abbreviated MJPEG without Huffman tables (DHT): those are decoded by OpenCV
 *    and encoded again rather than sent to browsers that cannot decode them.
 * Not tested on real hardware: no camera exists where this was written (see README).
 */
import { inspectJpeg, tooLargeToDecode, type JpegInfo } from './jpeg.js';

export function fourccCode(code: string): number {
  if (code.length !== 4) throw new Error(`a fourcc has 4 characters, got ${JSON.stringify(code)}`);
  return code.charCodeAt(0) | (code.charCodeAt(1) << 8) | (code.charCodeAt(2) << 16) | (code.charCodeAt(3) << 24);
}

export function fourccName(value: number): string {
  const v = Math.round(value) >>> 0;
  const chars = [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff];
  return chars.every((c) => c >= 0x20 && c < 0x7f) ? String.fromCharCode(...chars) : `0x${v.toString(16)}`;
}

export const FOURCC_MJPG = fourccCode('MJPG');

/** What OpenCV reports after we asked for MJPG and CONVERT_RGB off (VideoCapture.get). */
export interface V4l2Readback {
  fourcc: number;
  convertRgb: number;
}

export type V4l2Negotiation = { raw: true; note: string } | { raw: false; note: string };

/** Should the source read the camera's compressed buffers? `wanted` is false with CAPTURE_PASSTHROUGH=off. */
export function negotiateMjpeg(wanted: boolean, readback: V4l2Readback | null): V4l2Negotiation {
  if (!wanted) return { raw: false, note: 'decoded frames (CAPTURE_PASSTHROUGH=off)' };
  if (!readback) return { raw: false, note: 'decoded frames: OpenCV refused the MJPG request' };
  const fourcc = Math.round(readback.fourcc) >>> 0;
  if (fourcc !== FOURCC_MJPG) return { raw: false, note: `decoded frames: the camera delivers ${fourccName(fourcc)}, not MJPG` };
  if (readback.convertRgb !== 0) return { raw: false, note: 'decoded frames: this OpenCV keeps converting to BGR (CAP_PROP_CONVERT_RGB stays on)' };
  return { raw: true, note: "the camera's own MJPEG (MJPG, CAP_PROP_CONVERT_RGB off)" };
}

/** The shape of a Mat OpenCV returned, and its bytes when it may be a compressed buffer. */
export interface MatShape {
  rows: number;
  cols: number;
  channels: number;
}

export type DeviceFrame =
  /** The camera's JPEG, ready to publish as it is. */
  | { kind: 'jpeg'; jpeg: Buffer; info: JpegInfo }
  /** A JPEG that must be decoded first (no Huffman tables): OpenCV decodes it, camfan encodes it again. */
  | { kind: 'jpeg-to-decode'; jpeg: Buffer; reason: string }
  /** OpenCV converted after all (a BGR picture): use it as a decoded frame. */
  | { kind: 'decoded' }
  /** A compressed buffer that is not a whole JPEG (cut off, corrupt): skip it. */
  | { kind: 'broken'; reason: string };

export function classifyDeviceFrame(shape: MatShape, bytes: () => Buffer): DeviceFrame {
  if (shape.rows !== 1 || shape.channels !== 1) return { kind: 'decoded' };
  // Some OpenCV versions hand out the whole driver buffer rather than the bytes used: zero padding after EOI.
  const jpeg = trimZeroPadding(bytes());
  let info: JpegInfo;
  try {
    info = inspectJpeg(jpeg);
  } catch (err) {
    return { kind: 'broken', reason: `camera buffer of ${jpeg.length} bytes is not a whole JPEG: ${(err as Error).message}` };
  }
  const tooLarge = tooLargeToDecode(info);
  if (tooLarge) return { kind: 'broken', reason: tooLarge };
  if (!info.hasHuffmanTables) return { kind: 'jpeg-to-decode', jpeg, reason: 'the camera sends MJPEG without Huffman tables, which browsers cannot decode' };
  return { kind: 'jpeg', jpeg, info };
}

function trimZeroPadding(buf: Buffer): Buffer {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  return end === buf.length ? buf : buf.subarray(0, end);
}
