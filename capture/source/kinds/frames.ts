/**
 * A camera's JPEG as a SourceFrame (source.ts): the bytes to pass through, a decoder for when they are not
 * enough. OpenCV is loaded on the first decode only: a capture that passes an HTTP camera through in its
 * own process never loads it.
 */
import type { Mat } from './cv.js';
import { loadCv } from './lazy-cv.js';
import { SourceError, type SourceFrame } from './source.js';

function imdecode(jpeg: Buffer): Promise<Mat> {
  return loadCv().imdecodeAsync(jpeg);
}

/** The camera's JPEG, decoded only if asked. Without Huffman tables it is not offered for passthrough. */
export function jpegFrame(jpeg: Buffer, width: number, height: number, browserReady = true): SourceFrame {
  let decoded: Promise<Mat> | null = null;
  return {
    width,
    height,
    jpeg: browserReady ? jpeg : null,
    decode: () =>
      (decoded ??= imdecode(jpeg).then((m) => {
        if (m.empty) throw new SourceError(`OpenCV cannot decode a ${width}x${height} JPEG from the camera`);
        return m;
      })),
  };
}
