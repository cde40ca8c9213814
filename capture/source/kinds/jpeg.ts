/**
 * Just enough JPEG to relay a camera's frames untouched: is it whole (SOI ... EOI), how large is the
 * picture (from its SOF), and can a browser decode it on its own (Motion-JPEG from USB cameras often
 * leaves out the Huffman tables, DHT, which only MJPEG decoders fill in). Walks the marker segments up to
 * the start of scan; never looks at the compressed data.
 */

import { LIMITS } from '../../../lib/ids.js';

export interface JpegInfo {
  width: number;
  height: number;
  /** False for "abbreviated" MJPEG frames without DHT: fine for OpenCV, not for browsers. */
  hasHuffmanTables: boolean;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DHT = 0xc4;

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== DHT && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers without a length field (RSTn, TEM). */
function standsAlone(marker: number): boolean {
  return (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01;
}

/** Reads a JPEG's size; throws an Error saying what is wrong when it is not a whole JPEG with a frame header. */
export function inspectJpeg(buf: Buffer): JpegInfo {
  const n = buf.length;
  if (n < 4 || buf[0] !== 0xff || buf[1] !== SOI) throw new Error('does not start with a JPEG SOI marker');
  if (buf[n - 2] !== 0xff || buf[n - 1] !== EOI) throw new Error('does not end with a JPEG EOI marker (cut short?)');
  let size: { width: number; height: number } | null = null;
  let hasHuffmanTables = false;
  let at = 2;
  while (at + 4 <= n) {
    if (buf[at] !== 0xff) throw new Error(`no marker at byte ${at}`);
    const marker = buf[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (standsAlone(marker)) {
      at += 2;
      continue;
    }
    const length = buf.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > n) throw new Error(`segment 0x${marker.toString(16)} runs past the end`);
    if (marker === DHT) hasHuffmanTables = true;
    if (isStartOfFrame(marker)) {
      if (length < 7) throw new Error('frame header too short');
      size = { height: buf.readUInt16BE(at + 5), width: buf.readUInt16BE(at + 7) };
    }
    if (marker === SOS) {
      if (!size) throw new Error('no frame header (SOF) before the scan');
      if (size.width === 0 || size.height === 0) throw new Error(`picture size ${size.width}x${size.height} is not usable`);
      return { ...size, hasHuffmanTables };
    }
    if (marker === EOI) break;
    at += 2 + length;
  }
  throw new Error('no scan (SOS) in the JPEG');
}

/** The same check for callers that only need a yes or no. */
export function jpegInfoOrNull(buf: Buffer): JpegInfo | null {
  try {
    return inspectJpeg(buf);
  } catch {
    return null;
  }
}

/**
 * Why a camera's JPEG must not be decoded, from the size its SOF declares, or null when it is within
 * lib/limits.json's width and height. A frame header costs the sender two bytes per side but a decoder
 * width × height × 3 bytes: a 13 kB JPEG that claims 20000×20000 took a source process to 11 GB.
 */
export function tooLargeToDecode(info: JpegInfo): string | null {
  if (info.width <= LIMITS.width.max && info.height <= LIMITS.height.max) return null;
  return `the JPEG declares ${info.width}x${info.height}, larger than ${LIMITS.width.max}x${LIMITS.height.max}: refused before any decode`;
}
