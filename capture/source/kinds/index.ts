import type { Logger } from '../../../lib/log.js';
import { HttpMjpegSource } from './http-mjpeg.js';
import type { RedirectPolicy } from './http-open.js';
import { OpenCvSource } from './opencv.js';
import { type FrameSource, isHttpSource, type PassthroughMode, type SizeSetting, type SourceSpec } from './source.js';
import { PATTERN_DEFAULT_SIZE, TestPatternSource } from './test-pattern.js';

export interface SourceOptions {
  camera: string;
  /** CAPTURE_SOURCE as the capture parsed it (auto already resolved), sent to the source process once. */
  spec: SourceSpec;
  width: SizeSetting;
  height: SizeSetting;
  fps: number;
  passthrough: PassthroughMode;
  maxFrameBytes: number;
  stallTimeoutMs: number;
  /** CAPTURE_REDIRECTS (http-open.ts). */
  redirects: RedirectPolicy;
  log: Logger;
}

/**
 * Builds the source CAPTURE_SOURCE names. Paced sources (file, test) are read on the frame clock; live
 * ones as fast as they deliver. HTTP(S) streams are read by camfan's own MJPEG reader unless
 * CAPTURE_PASSTHROUGH=off, which keeps OpenCV/FFmpeg (the behaviour before passthrough existed).
 */
export function createSource(o: SourceOptions): { source: FrameSource; live: boolean } {
  const { spec } = o;
  const size = { width: o.width, height: o.height, fps: o.fps };
  if (spec.kind === 'test') {
    const w = o.width === 'source' ? PATTERN_DEFAULT_SIZE.width : o.width;
    const h = o.height === 'source' ? PATTERN_DEFAULT_SIZE.height : o.height;
    return { source: new TestPatternSource(o.camera, w, h), live: false };
  }
  if (isHttpSource(spec) && o.passthrough !== 'off') {
    return {
      source: new HttpMjpegSource(spec.url, {
        maxFrameBytes: o.maxFrameBytes,
        stallTimeoutMs: o.stallTimeoutMs,
        log: o.log,
        size,
        openCvFallback: true,
        redirects: o.redirects,
      }),
      live: true,
    };
  }
  const probe = { redirects: o.redirects, timeoutMs: o.stallTimeoutMs, log: o.log };
  return { source: new OpenCvSource(spec, { ...size, rawMjpeg: o.passthrough !== 'off', probe }), live: spec.kind !== 'file' };
}
