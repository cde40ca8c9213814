/** A camera's JPEG as a SourceFrame (source.ts): the bytes to pass through, a decoder for when they are not enough. */
import cv, { type Mat } from './cv.js';
import { SourceError, type SourceFrame } from './source.js';

/** The camera's JPEG, decoded only if asked. Without Huffman tables it is not offered for passthrough. */
export function jpegFrame(jpeg: Buffer, width: number, height: number, browserReady = true): SourceFrame {
  let decoded: Promise<Mat> | null = null;
  return {
    width,
    height,
    jpeg: browserReady ? jpeg : null,
    decode: () => (decoded ??= cv.imdecodeAsync(jpeg).then((m) => {
      if (m.empty) throw new SourceError(`OpenCV cannot decode a ${width}x${height} JPEG from the camera`);
      return m;
    })),
  };
}
