/**
 * The frame wire format, defined once for the bus (bus/frame.ts, on Buffers) and the page
 * (gateway/page/client/wire.ts, which gets the same messages over /ws). An ES module without Node imports:
 * the gateway serves it to browsers as /page/frame-format.mjs (gateway/page/assets.ts), and the CommonJS
 * server code require()s it (Node >= 20.19). Version 1, big-endian:
 *
 *   0  magic 'CF' (2 bytes)      2  version u8 = 1        3  camera id length n (u8, 1..64)
 *   4  sequence number (f64, an integer < 2^53)
 *  12  capture timestamp, ms since the epoch (f64)
 *  20  width u16               22  height u16
 *  24  camera id (n bytes of ASCII)   24+n  JPEG bytes (SOI ... EOI)
 */
export const WIRE_VERSION = 1;
export const MAGIC0 = 0x43; // 'C'
export const MAGIC1 = 0x46; // 'F'
export const FIXED_HEADER = 24;
/** Where each header field starts. */
export const AT = { version: 2, idLength: 3, seq: 4, timestamp: 12, width: 20, height: 22 } as const;

export interface FrameHeader {
  camera: string;
  seq: number;
  /** Capture time, milliseconds since the epoch (fractional). */
  timestamp: number;
  width: number;
  height: number;
  /** Offset of the JPEG: it runs from here to the end of the message. */
  jpegStart: number;
}

// Camera ids are ASCII (the bus checks them against the id rule), where every Latin-1 decoder agrees.
const latin1 = new TextDecoder('latin1');

/** The header of a frame message, or why the message is not one. The JPEG and the field values are not checked here. */
export function readHeader(msg: Uint8Array): FrameHeader | string {
  if (msg.length < FIXED_HEADER + 1 + 4) return `too short (${msg.length} bytes)`;
  if (msg[0] !== MAGIC0 || msg[1] !== MAGIC1) return 'bad magic';
  if (msg[AT.version] !== WIRE_VERSION) return `unsupported version ${msg[AT.version]}`;
  const idLength = msg[AT.idLength]!;
  const jpegStart = FIXED_HEADER + idLength;
  if (idLength === 0 || jpegStart + 4 > msg.length) return 'bad camera id length';
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  return {
    camera: latin1.decode(msg.subarray(FIXED_HEADER, jpegStart)),
    seq: v.getFloat64(AT.seq),
    timestamp: v.getFloat64(AT.timestamp),
    width: v.getUint16(AT.width),
    height: v.getUint16(AT.height),
    jpegStart,
  };
}
