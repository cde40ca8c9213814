/**
 * Rendition geometry, free of OpenCV for unit tests: which widths a picture can have renditions at, the
 * size of each (the camera's aspect ratio, an even height), and how far a camera's JPEG can be scaled down
 * while it is decoded (libjpeg decodes at 1/2, 1/4 or 1/8 of the size for a fraction of the cost of a
 * full decode: 0.7 ms instead of 3.7 ms for a 720p frame to 320×180 on the benchmark machine).
 */
import type { SourceFrame } from '../source/kinds/source.js';

export interface PictureSize {
  width: number;
  height: number;
}

/** A rendition of `width` pixels of a picture: the height scaled by the same factor, rounded to an even number (at least 2). */
export function renditionSize(picture: PictureSize, width: number): PictureSize {
  const height = Math.max(2, 2 * Math.round((picture.height * width) / picture.width / 2));
  return { width, height };
}

/** The widths (ascending) narrower than the picture: a rendition is never as large as the camera's own size. */
export function renditionsOf(picture: PictureSize, widths: readonly number[]): number[] {
  return widths.filter((w) => w < picture.width).sort((a, b) => a - b);
}

export type ReduceFactor = 1 | 2 | 4 | 8;

/**
 * The largest decode reduction that still leaves at least the widest rendition's pixels in both
 * directions (libjpeg rounds a reduced size up), so every rendition is a downscale of the reduced picture.
 */
export function reduceFactor(source: PictureSize, widest: PictureSize): ReduceFactor {
  for (const f of [8, 4, 2] as const) {
    if (Math.ceil(source.width / f) >= widest.width && Math.ceil(source.height / f) >= widest.height) return f;
  }
  return 1;
}

/** The camera's frame a rendition is made from, as it was published: renditions carry its seq and timestamp. */
export interface PublishedFrame {
  seq: number;
  timestamp: number;
  /** The published picture's size (after CAPTURE_WIDTH/HEIGHT), whose aspect ratio renditions keep. */
  width: number;
  height: number;
}

/**
 * Where the pipeline hands each published frame for renditions (encoder.ts in a source process,
 * worker.ts in the capture process). Latest frame wins: a busy encoder skips the frame.
 */
export interface RenditionOutput {
  /**
   * decoded: the pipeline decoded the frame already (it transcodes), so frame.decode() costs nothing.
   * Resolves once the frame's decoded picture is no longer needed: a source may draw the next frame
   * into the same picture (the test pattern does), so the pipeline waits for the resize, never the encode.
   */
  offer(frame: SourceFrame, published: PublishedFrame, decoded: boolean): Promise<void>;
}
