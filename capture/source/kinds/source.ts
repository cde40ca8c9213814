/**
 * What a camera source is, how CAPTURE_SOURCE names one, and how a failed open reads in the log.
 * Adding a kind of source touches only this folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Mat } from './cv.js';

/** CAPTURE_PASSTHROUGH: whether a source that delivers JPEGs hands them out untouched (see capture/output.ts). */
export type PassthroughMode = 'auto' | 'on' | 'off';
/** CAPTURE_WIDTH / CAPTURE_HEIGHT: a number of pixels, or `source` for the source's own size. */
export type SizeSetting = number | 'source';

export type SourceSpec =
  | { kind: 'test' }
  | { kind: 'device'; index: number; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'gstreamer'; pipeline: string };

export interface FrameRequest {
  seq: number;
  /** Wall-clock time the frame is due, ms since the epoch. */
  now: number;
}

/**
 * One picture from a source. A source of compressed frames (an HTTP MJPEG camera, a V4L2 camera in MJPEG
 * mode) hands out the camera's own JPEG, which can be published untouched, and decodes it only when asked
 * (a size change, CAPTURE_PASSTHROUGH=off, and later smaller renditions). A source of decoded pictures has
 * no JPEG and returns its picture from decode().
 */
export interface SourceFrame {
  width: number;
  height: number;
  /** The camera's own JPEG (whole, checked), or null when the source delivers decoded pictures. */
  jpeg: Buffer | null;
  /** The picture as BGR; decoded on the first call for a JPEG frame, then cached. */
  decode(): Promise<Mat>;
}

export interface FrameSource {
  /** For logs and /api/cameras; never contains a credential (see describe.ts). */
  readonly description: string;
  /** What the open source delivers, for the log ("the camera's own MJPEG", "decoded frames: …"). */
  readonly delivers?: string;
  /** Rejects with a message naming the source when it cannot be opened. */
  open(): Promise<void>;
  /** The next frame, or null when the source has none right now (end of file, dropped frame). */
  read(req: FrameRequest): Promise<SourceFrame | null>;
  /** Files loop: rewind instead of reopening. Returns false when the source cannot rewind. */
  rewind(): boolean;
  close(): void;
}

/** An http(s):// source: read by camfan's own MJPEG reader (unless CAPTURE_PASSTHROUGH=off). */
export function isHttpSource(spec: SourceSpec): spec is Extract<SourceSpec, { kind: 'url' }> {
  return spec.kind === 'url' && /^https?:\/\//i.test(spec.url);
}

/** A decoded picture as a SourceFrame. */
export function decodedFrame(mat: Mat): SourceFrame {
  return { width: mat.cols, height: mat.rows, jpeg: null, decode: async () => mat };
}

/** The capture process cannot go on with this source by itself (it needs OpenCV): hand it to a source process. */
export class HandOffError extends Error {
  constructor(readonly reason: string) {
    super(`needs OpenCV: ${reason}`);
    this.name = 'HandOffError';
  }
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

const URL_RE = /^(rtsp|rtsps|rtmp|http|https|udp|tcp|srt):\/\//i;
const DEVICE_RE = /^\/dev\/video(\d+)$/;

export const SOURCE_FORMS = 'auto, test, a device index (0), /dev/videoN, a file path, an rtsp:// http(s):// rtmp:// URL, or gst:<pipeline ending in appsink>';

/** Parses CAPTURE_SOURCE. 'auto' picks the first /dev/video* or, when there is none, the test pattern. */
export function parseSourceSpec(raw: string, listDevices: () => string[] = videoDevices): SourceSpec {
  const value = raw.trim();
  if (value === 'auto') {
    const first = listDevices()[0];
    return first ? parseSourceSpec(first, listDevices) : { kind: 'test' };
  }
  if (value === 'test') return { kind: 'test' };
  if (/^\d+$/.test(value)) return { kind: 'device', index: Number(value), path: `/dev/video${value}` };
  const device = DEVICE_RE.exec(value);
  if (device) return { kind: 'device', index: Number(device[1]), path: value };
  if (value.startsWith('gst:')) {
    const pipeline = value.slice(4).trim();
    if (!pipeline) throw new SourceError(`empty GStreamer pipeline; expected ${SOURCE_FORMS}`);
    return { kind: 'gstreamer', pipeline };
  }
  if (URL_RE.test(value)) return { kind: 'url', url: value };
  // The messages name the scheme or the file's base name only: the value may hold credentials (describe.ts).
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme) throw new SourceError(`unsupported URL scheme ${scheme[1]}://; expected ${SOURCE_FORMS}`);
  if (!existsSync(value)) throw new SourceError(`no such file ${JSON.stringify(path.basename(value))}; expected ${SOURCE_FORMS}`);
  return { kind: 'file', path: value };
}

export function videoDevices(): string[] {
  try {
    return readdirSync('/dev')
      .filter((n) => /^video\d+$/.test(n))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
      .map((n) => `/dev/${n}`);
  } catch {
    return [];
  }
}
