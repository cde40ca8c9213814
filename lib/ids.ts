/**
 * Camera ids and the limits every part shares (a camera's size, rate and quality), declared once in
 * limits.json so that the CommonJS scripts pm2 reads (scripts/cameras.js) use the same values as the
 * wire format, the capture's settings and the gateway. `width`/`height` bound a camera's own picture
 * (CAPTURE_WIDTH, cameras.json); `renditionWidth` bounds the width a viewer may ask for (?width=, "width"
 * on /ws) and each of RENDITION_WIDTHS, which may exceed any camera (the gateway never serves one wider).
 */
import limits from './limits.json';

export const CAMERA_ID_RE = new RegExp(limits.cameraId.pattern);
/** How a camera id is described in every refusal and setting error. */
export const CAMERA_ID_RULE = limits.cameraId.rule;
export const LIMITS = {
  fps: limits.fps,
  quality: limits.quality,
  width: limits.width,
  height: limits.height,
  renditionWidth: limits.renditionWidth,
} as const;
