/**
 * Frames as /ws sends them: the bus wire format (bus/frame.ts): 'CF', version 1, camera id length,
 * sequence number (f64), capture time in ms (f64), width u16, height u16, camera id, JPEG.
 */
export interface WireFrame {
  camera: string;
  seq: number;
  /** Capture time, ms since the epoch (the gateway's clock for a placeholder). */
  ts: number;
  width: number;
  height: number;
  jpeg: Uint8Array<ArrayBuffer>;
  /** The gateway's NO SIGNAL picture, not a camera frame: it never counts as a live frame. */
  placeholder: boolean;
  bytes: number;
}

const decoder = new TextDecoder('latin1');

export function decodeMessage(buf: ArrayBuffer): WireFrame | null {
  if (buf.byteLength < 28) return null;
  const v = new DataView(buf);
  if (v.getUint8(0) !== 0x43 || v.getUint8(1) !== 0x46 || v.getUint8(2) !== 1) return null;
  const idLen = v.getUint8(3);
  const jpeg = new Uint8Array(buf, 24 + idLen);
  return {
    camera: decoder.decode(new Uint8Array(buf, 24, idLen)),
    seq: v.getFloat64(4),
    ts: v.getFloat64(12),
    width: v.getUint16(20),
    height: v.getUint16(22),
    jpeg,
    placeholder: isNoSignal(jpeg),
    bytes: buf.byteLength,
  };
}

/** gateway/delivery/packet.ts commentSegment: a COM segment right after SOI whose text ends in " nosignal" on placeholders. */
export function isNoSignal(jpeg: Uint8Array<ArrayBuffer>): boolean {
  if (jpeg.length < 8 || jpeg[2] !== 0xff || jpeg[3] !== 0xfe) return false;
  const len = (jpeg[4]! << 8) | jpeg[5]!;
  const text = decoder.decode(jpeg.subarray(6, Math.min(jpeg.length, 4 + len)));
  return text.startsWith('camfan ') && / nosignal\b/.test(text);
}
