/**
 * Frames as /ws sends them: the bus wire format, read by the module the bus reads it with
 * (lib/wire/frame-format.mts, served next to this one as /page/frame-format.mjs).
 */
import { readHeader } from './frame-format.mjs';

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
  const h = readHeader(new Uint8Array(buf));
  if (typeof h === 'string') return null;
  const jpeg = new Uint8Array(buf, h.jpegStart);
  return {
    camera: h.camera,
    seq: h.seq,
    ts: h.timestamp,
    width: h.width,
    height: h.height,
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
