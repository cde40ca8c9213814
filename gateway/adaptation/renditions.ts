/**
 * Which pictures of a camera a viewer can ask for: the camera's own size, or one of RENDITION_WIDTHS
 * narrower than it (height by the camera's aspect ratio), each encoded once by the capture while watched.
 */
import type { CameraInfo, Rendition } from '../../bus/bus.js';

/**
 * The picture for a requested width: the configured rendition nearest to it, or the camera's own size
 * when that is nearer or the rendition would not be smaller (never upscaled).
 */
export function snapRendition(requested: number, cameraWidth: number, widths: readonly number[]): Rendition {
  let best: Rendition = null;
  let bestDistance = Math.abs(cameraWidth - requested);
  for (const w of widths) {
    if (w >= cameraWidth) continue;
    const d = Math.abs(w - requested);
    if (d < bestDistance) {
      best = w;
      bestDistance = d;
    }
  }
  return best;
}

/** The pictures of a camera from smallest to largest, up to `ceiling` (null: the camera's own size). */
export function ladder(cameraWidth: number, widths: readonly number[], ceiling: Rendition): Rendition[] {
  const out: Rendition[] = widths.filter((w) => w < cameraWidth && (ceiling === null || w <= ceiling));
  if (ceiling === null) out.push(null);
  return out;
}

/** Bytes of one frame of a picture: measured when it is being encoded, else scaled from the camera's by area. */
export function frameBytes(info: CameraInfo, rendition: Rendition): number {
  if (rendition === null) return info.lastFrameBytes;
  const measured = info.renditions?.find((r) => r.width === rendition);
  if (measured && measured.lastFrameBytes > 0) return measured.lastFrameBytes;
  const scale = info.width > 0 ? rendition / info.width : 1;
  return info.lastFrameBytes * scale * scale;
}
