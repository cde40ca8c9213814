/**
 * Encodes a camera's renditions (RENDITION_WIDTHS being watched) from one frame: the camera's JPEG decoded
 * at a reduced size when the full size is passed through (libjpeg's 1/2, 1/4, 1/8 scaling: a fraction of
 * a full decode), or the picture the pipeline decoded already when it transcodes; then each width resized
 * (INTER_AREA, the sharpest for shrinking) and encoded, smallest first, on libuv's worker threads. Runs
 * where OpenCV is loaded: the source process, or the rendition worker (renditions/worker-child.ts).
 *
 * Latest frame wins: while one frame's renditions are being made, the frames offered are skipped (and
 * counted), never queued, so renditions cannot fall behind or hold memory, and the camera's own picture
 * (published before its renditions are offered) never waits for them.
 */
import type { Frame } from '../../bus/frame.js';
import type { Logger } from '../../lib/log.js';
import { reduceFactor, renditionsOf, renditionSize, type PictureSize, type PublishedFrame, type RenditionOutput } from './geometry.js';
import cv, { type Mat } from '../source/kinds/cv.js';
import type { SourceFrame } from '../source/kinds/source.js';

/** Where encoded renditions go: the publisher, or the IPC channel to the capture. */
export interface RenditionSink {
  /** The frame's width is the rendition's; encodeMs is the JPEG encode alone. */
  offerRendition(frame: Frame, encodeMs: number): void;
}

export interface RenditionEncoderOptions {
  camera: string;
  /** JPEG_QUALITY, or the default when it is not set. */
  quality: number;
  sink: RenditionSink;
  log: Logger;
}

const DECODE_FLAGS = { 1: cv.IMREAD_COLOR, 2: cv.IMREAD_REDUCED_COLOR_2, 4: cv.IMREAD_REDUCED_COLOR_4, 8: cv.IMREAD_REDUCED_COLOR_8 } as const;
const resolved = Promise.resolve();

export class RenditionEncoder implements RenditionOutput {
  encoded = 0;
  skippedBusy = 0;
  failed = 0;
  private widths: number[] = [];
  private busy = false;

  constructor(private readonly o: RenditionEncoderOptions) {}

  /** The widths being watched (Demand); empty: offer() does nothing. */
  setWidths(widths: readonly number[]): void {
    this.widths = [...widths];
  }

  offer(frame: SourceFrame, published: PublishedFrame, decoded: boolean): Promise<void> {
    if (renditionsOf(published, this.widths).length === 0) return resolved;
    if (this.busy) {
      this.skippedBusy++;
      return resolved;
    }
    this.busy = true;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    void this.render(frame, published, decoded, release).finally(() => (this.busy = false));
    return released;
  }

  /**
   * All the renditions of one frame; resolves when they have gone to the sink (or failed, logged).
   * onReleased: called once the frame's own picture is no longer read.
   */
  async render(frame: SourceFrame, published: PublishedFrame, decoded: boolean, onReleased: () => void = () => undefined): Promise<void> {
    try {
      let pictures: Mat[];
      try {
        const sizes = renditionsOf(published, this.widths).map((w) => renditionSize(published, w));
        pictures = await this.resize(frame, sizes, decoded);
      } finally {
        onReleased();
      }
      // Given back at once rather than at some later GC (V8 does not see their pixels: source/kinds/cv.ts).
      for (const picture of pictures) await this.encode(picture, published).finally(() => picture.release());
    } catch (err) {
      if (this.failed++ % 100 === 0) this.o.log.error({ err: (err as Error).message, failed: this.failed }, 'cannot encode a rendition; skipping the frame');
    }
  }

  /**
   * The pictures at each size (ascending), made before the pipeline reads its next frame (which may reuse
   * the frame's picture). Widest first, each from the smallest picture made so far: INTER_AREA is cheap
   * for small factors and dear for large uneven ones (1280 to 480: 1.7 ms; 640 to 480: 0.5 ms).
   */
  private async resize(frame: SourceFrame, sizes: PictureSize[], decoded: boolean): Promise<Mat[]> {
    if (sizes.length === 0) return [];
    const fromJpeg = frame.jpeg !== null && !decoded;
    const source = fromJpeg ? await this.decodeReduced(frame.jpeg!, frame, sizes.at(-1)!) : await frame.decode();
    const out: Mat[] = [];
    let from = source;
    for (const s of [...sizes].reverse()) {
      if (from.cols === s.width && from.rows === s.height) out.push(from === source && !fromJpeg ? from.copy() : from);
      else out.push(await from.resizeAsync(s.height, s.width, 0, 0, cv.INTER_AREA));
      from = out.at(-1)!;
    }
    // The reduced decode is ours to free unless it is one of the renditions; the frame's own picture is not.
    if (fromJpeg && !out.includes(source)) source.release();
    return out.reverse();
  }

  private async decodeReduced(jpeg: Buffer, size: PictureSize, widest: PictureSize): Promise<Mat> {
    const mat = await cv.imdecodeAsync(jpeg, DECODE_FLAGS[reduceFactor(size, widest)]);
    if (mat.empty) throw new Error(`OpenCV cannot decode a ${size.width}x${size.height} JPEG from the camera`);
    return mat;
  }

  private async encode(picture: Mat, published: PublishedFrame): Promise<void> {
    const t0 = performance.now();
    const jpeg = await cv.imencodeAsync('.jpg', picture, [cv.IMWRITE_JPEG_QUALITY, this.o.quality]);
    const encodeMs = performance.now() - t0;
    this.encoded++;
    this.o.sink.offerRendition(
      { camera: this.o.camera, seq: published.seq, timestamp: published.timestamp, width: picture.cols, height: picture.rows, jpeg },
      encodeMs,
    );
  }
}
