/**
 * When to pass the camera's JPEG through and when to encode: the policy (CAPTURE_PASSTHROUGH,
 * CAPTURE_WIDTH/HEIGHT, JPEG_QUALITY) and the per-frame decision, free of OpenCV for unit tests.
 *  - off: always decode and encode (the behaviour before passthrough existed);
 *  - on: never encode a JPEG the source delivers, whatever size or quality is configured;
 *  - auto: pass through when the frame is the camera's JPEG and nothing asks for another picture: the
 *    configured size is the frame's own or `source`, and JPEG_QUALITY is not set.
 */
import { isHttpSource, type PassthroughMode, type SizeSetting, type SourceSpec } from './source/kinds/source.js';

export type OutputMode = 'passthrough' | 'transcode';

/** JPEG quality when camfan encodes and JPEG_QUALITY is not set. */
export const DEFAULT_JPEG_QUALITY = 80;

export interface OutputPolicy {
  passthrough: PassthroughMode;
  width: SizeSetting;
  height: SizeSetting;
  /** null: not set (no reason to transcode; DEFAULT_JPEG_QUALITY when encoding). */
  jpegQuality: number | null;
}

export type OutputDecision = { mode: 'passthrough'; reason: string } | { mode: 'transcode'; reason: string; width: number; height: number; quality: number };

export function decideOutput(policy: OutputPolicy, frame: { width: number; height: number; hasJpeg: boolean }): OutputDecision {
  const width = policy.width === 'source' ? frame.width : policy.width;
  const height = policy.height === 'source' ? frame.height : policy.height;
  const transcode = (reason: string): OutputDecision => ({ mode: 'transcode', reason, width, height, quality: policy.jpegQuality ?? DEFAULT_JPEG_QUALITY });
  if (policy.passthrough === 'off') return transcode('CAPTURE_PASSTHROUGH=off');
  if (!frame.hasJpeg) return transcode('the source delivers decoded frames, not JPEG');
  if (policy.passthrough === 'on') return { mode: 'passthrough', reason: 'CAPTURE_PASSTHROUGH=on' };
  if (policy.jpegQuality !== null) return transcode(`JPEG_QUALITY=${policy.jpegQuality} is set`);
  if (width !== frame.width || height !== frame.height)
    return transcode(`the camera sends ${frame.width}x${frame.height}, CAPTURE_WIDTH/HEIGHT ask for ${width}x${height}`);
  return { mode: 'passthrough', reason: "the camera's JPEGs are the size asked for" };
}

/** Only HTTP(S) MJPEG streams and V4L2 cameras can deliver JPEGs; CAPTURE_PASSTHROUGH=on with another source is refused at start. */
export function mayPassThrough(spec: SourceSpec): boolean {
  return spec.kind === 'device' || isHttpSource(spec);
}

/** CAPTURE_WIDTH / CAPTURE_HEIGHT: a number of pixels, or `source` for the source's own size. */
export function sizeSetting(min: number, max: number): (raw: string) => SizeSetting {
  return (raw) => {
    if (raw.trim() === 'source') return 'source';
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) throw new Error(`expected source or a whole number from ${min} to ${max}`);
    return Number(raw);
  };
}
