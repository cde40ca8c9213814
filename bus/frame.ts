/**
 * Frames on the bus: the wire format (lib/wire/frame-format.mts, shared with the page) written and read
 * on Buffers, with the checks a frame from Redis must pass. Decoding copies nothing: the JPEG is a view
 * into the received message.
 */
import { CAMERA_ID_RE } from '../lib/ids.js';
import { AT, FIXED_HEADER, MAGIC0, MAGIC1, readHeader, WIRE_VERSION } from '../lib/wire/frame-format.mjs';

export interface Frame {
  camera: string;
  seq: number;
  /** Capture time, milliseconds since the epoch (fractional). */
  timestamp: number;
  width: number;
  height: number;
  jpeg: Buffer;
}

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
  header[AT.version] = WIRE_VERSION;
  header[AT.idLength] = id.length;
  header.writeDoubleBE(frame.seq, AT.seq);
  header.writeDoubleBE(frame.timestamp, AT.timestamp);
  header.writeUInt16BE(frame.width, AT.width);
  header.writeUInt16BE(frame.height, AT.height);
  id.copy(header, FIXED_HEADER);
  return Buffer.concat([header, frame.jpeg], header.length + frame.jpeg.length);
}

export function decodeFrame(msg: Buffer): Frame {
  const h = readHeader(msg);
  if (typeof h === 'string') throw new FrameDecodeError(h);
  const { camera, seq, timestamp, width, height } = h;
  if (!CAMERA_ID_RE.test(camera)) throw new FrameDecodeError('bad camera id');
  if (!Number.isSafeInteger(seq) || seq < 0) throw new FrameDecodeError('bad sequence number');
  if (!Number.isFinite(timestamp) || timestamp <= 0) throw new FrameDecodeError('bad timestamp');
  const jpeg = msg.subarray(h.jpegStart);
  if (!isJpeg(jpeg)) throw new FrameDecodeError('payload is not a whole JPEG (SOI/EOI)');
  return { camera, seq, timestamp, width, height, jpeg };
}

/** SOI at the start and EOI at the end: cheap proof that a JPEG arrived whole. */
export function isJpeg(buf: Buffer): boolean {
  const n = buf.length;
  return n >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[n - 2] === 0xff && buf[n - 1] === 0xd9;
}
