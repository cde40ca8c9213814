/**
 * What a camera source is, how CAPTURE_SOURCE names one, and how a failed open reads in the log.
 * Adding a kind of source touches only this folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { Mat } from './cv.js';

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

export interface FrameSource {
  /** For logs and /api/cameras; never contains a password. */
  readonly description: string;
  /** Rejects with a message naming the source when it cannot be opened. */
  open(): Promise<void>;
  /** The next frame (BGR), or null when the source has none right now (end of file, dropped frame). */
  read(req: FrameRequest): Promise<Mat | null>;
  /** Files loop: rewind instead of reopening. Returns false when the source cannot rewind. */
  rewind(): boolean;
  close(): void;
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

const URL_RE = /^(rtsp|rtsps|rtmp|http|https|udp|tcp|srt):\/\//i;
const DEVICE_RE = /^\/dev\/video(\d+)$/;

export const SOURCE_FORMS =
  'auto, test, a device index (0), /dev/videoN, a file path, an rtsp:// http(s):// rtmp:// URL, or gst:<pipeline ending in appsink>';

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
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new SourceError(`unsupported URL scheme in ${JSON.stringify(value)}; expected ${SOURCE_FORMS}`);
  if (!existsSync(value)) throw new SourceError(`no such file ${JSON.stringify(value)}; expected ${SOURCE_FORMS}`);
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

/** A URL as it may appear in a log line: without its password. */
export function describeSpec(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'test':
      return 'test pattern';
    case 'device':
      return `camera ${spec.path} (index ${spec.index})`;
    case 'file':
      return `file ${spec.path}`;
    case 'url': {
      try {
        const u = new URL(spec.url);
        if (u.password) u.password = '***';
        return `stream ${u.toString()}`;
      } catch {
        return 'stream <unparseable url>';
      }
    }
    case 'gstreamer':
      return `GStreamer pipeline ${spec.pipeline}`;
  }
}
