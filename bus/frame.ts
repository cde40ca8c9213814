/**
 * The frame wire format, defined once. Version 1, big-endian:
 *
 *   0  magic 'CF' (2 bytes)      2  version u8 = 1        3  camera id length n (u8, 1..64)
 *   4  sequence number (f64, an integer < 2^53)
 *  12  capture timestamp, ms since the epoch (f64)
 *  20  width u16               22  height u16
 *  24  camera id (n bytes of ASCII)   24+n  JPEG bytes (SOI ... EOI)
 *
 * Decoding copies nothing: the JPEG is a view into the received message.
 */
import { CAMERA_ID_RE } from '../lib/ids.js';

export interface Frame {
  camera: string;
  seq: number;
  /** Capture time, milliseconds since the epoch (fractional). */
  timestamp: number;
  width: number;
  height: number;
  jpeg: Buffer;
}

export const WIRE_VERSION = 1;
const MAGIC0 = 0x43; // 'C'
const MAGIC1 = 0x46; // 'F'
const FIXED_HEADER = 24;

export class FrameDecodeError extends Error {
  constructor(reason: string) {
    super(`malformed frame message: ${reason}`);
    this.name = 'FrameDecodeError';
  }
}

export function encodeFrame(frame: Frame): Buffer {
  const id = Buffer.from(frame.camera, 'latin1');
  const header = Buffer.allocUnsafe(FIXED_HEADER + id.length);
  header[0] = MAGIC0;
  header[1] = MAGIC1;
  header[2] = WIRE_VERSION;
  header[3] = id.length;
  header.writeDoubleBE(frame.seq, 4);
  header.writeDoubleBE(frame.timestamp, 12);
  header.writeUInt16BE(frame.width, 20);
  header.writeUInt16BE(frame.height, 22);
  id.copy(header, FIXED_HEADER);
  return Buffer.concat([header, frame.jpeg], header.length + frame.jpeg.length);
}

export function decodeFrame(msg: Buffer): Frame {
  if (msg.length < FIXED_HEADER + 1 + 4) throw new FrameDecodeError(`too short (${msg.length} bytes)`);
  if (msg[0] !== MAGIC0 || msg[1] !== MAGIC1) throw new FrameDecodeError('bad magic');
  if (msg[2] !== WIRE_VERSION) throw new FrameDecodeError(`unsupported version ${msg[2]}`);
  const idLength = msg[3]!;
  const jpegStart = FIXED_HEADER + idLength;
  if (idLength === 0 || jpegStart + 4 > msg.length) throw new FrameDecodeError('bad camera id length');
  const camera = msg.toString('latin1', FIXED_HEADER, jpegStart);
  if (!CAMERA_ID_RE.test(camera)) throw new FrameDecodeError('bad camera id');
  const seq = msg.readDoubleBE(4);
  const timestamp = msg.readDoubleBE(12);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new FrameDecodeError('bad sequence number');
  if (!Number.isFinite(timestamp) || timestamp <= 0) throw new FrameDecodeError('bad timestamp');
  const jpeg = msg.subarray(jpegStart);
  if (!isJpeg(jpeg)) throw new FrameDecodeError('payload is not a whole JPEG (SOI/EOI)');
  return { camera, seq, timestamp, width: msg.readUInt16BE(20), height: msg.readUInt16BE(22), jpeg };
}

/** SOI at the start and EOI at the end: cheap proof that a JPEG arrived whole. */
export function isJpeg(buf: Buffer): boolean {
  const n = buf.length;
  return n >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[n - 2] === 0xff && buf[n - 1] === 0xd9;
}
