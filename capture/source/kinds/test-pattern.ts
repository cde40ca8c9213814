/**
 * A moving test pattern drawn with OpenCV: colour bars, a box that sweeps across, the camera id, frame
 * number and wall-clock time as text, and the low 16 bits of the frame number as black/white blocks along
 * the top edge, so a test (or a person) can read back which frame a browser is showing and how late.
 */
import cv, { type Mat } from './cv.js';
import { SEQ_BITS, seqBlockSize } from './seq-blocks.js';
import { decodedFrame, type FrameRequest, type FrameSource, type SourceFrame } from './source.js';

const BARS: Array<[number, number, number]> = [
  [192, 192, 192],
  [0, 192, 192],
  [192, 192, 0],
  [0, 192, 0],
  [192, 0, 192],
  [0, 0, 192],
  [192, 0, 0],
];

/** The test pattern's size when CAPTURE_WIDTH/HEIGHT are `source`: it has no size of its own. */
export const PATTERN_DEFAULT_SIZE = { width: 640, height: 480 };

export class TestPatternSource implements FrameSource {
  readonly description = 'test pattern';
  private base: Mat | null = null;
  private work: Mat | null = null;

  constructor(
    private readonly camera: string,
    private readonly width: number,
    private readonly height: number,
  ) {}

  async open(): Promise<void> {
    const { width: w, height: h } = this;
    const base = new cv.Mat(h, w, cv.CV_8UC3, [40, 40, 40]);
    const barW = Math.ceil(w / BARS.length);
    BARS.forEach((c, i) => {
      base.drawRectangle(new cv.Point2(i * barW, 0), new cv.Point2(Math.min(w, (i + 1) * barW) - 1, Math.floor(h * 0.6)), new cv.Vec3(...c), -1);
    });
    this.base = base;
    this.work = new cv.Mat(h, w, cv.CV_8UC3, [0, 0, 0]);
  }

  async read(req: FrameRequest): Promise<SourceFrame> {
    return decodedFrame(this.draw(req));
  }

  /** The picture itself (the encode benchmark draws with it too). */
  draw({ seq, now }: FrameRequest): Mat {
    if (!this.base || !this.work) throw new Error('test pattern is not open');
    const { width: w, height: h } = this;
    const m = this.work;
    this.base.copyTo(m);
    const box = Math.max(16, Math.floor(h / 6));
    const x = Math.floor((seq * 4) % Math.max(1, w - box));
    const y = Math.floor(h * 0.6) + Math.floor((h * 0.4 - box) / 2);
    m.drawRectangle(new cv.Point2(x, y), new cv.Point2(x + box, y + box), new cv.Vec3(255, 255, 255), -1);
    this.drawSeqBlocks(m, seq);
    const scale = Math.max(0.4, w / 900);
    const time = new Date(now).toISOString().slice(11, 23);
    m.putText(
      `${this.camera}  #${seq}  ${time}`,
      new cv.Point2(Math.floor(w * 0.02), h - Math.floor(h * 0.04)),
      cv.FONT_HERSHEY_SIMPLEX,
      scale,
      new cv.Vec3(255, 255, 255),
      Math.max(1, Math.round(scale * 2)),
      cv.LINE_AA,
    );
    return m;
  }

  private drawSeqBlocks(m: Mat, seq: number): void {
    const b = seqBlockSize(this.width);
    for (let bit = 0; bit < SEQ_BITS; bit++) {
      const on = Math.floor(seq / 2 ** bit) % 2 === 1;
      const v = on ? 255 : 0;
      m.drawRectangle(new cv.Point2(bit * b, 0), new cv.Point2(bit * b + b - 1, b - 1), new cv.Vec3(v, v, v), -1);
    }
  }

  rewind(): boolean {
    return true;
  }

  close(): void {
    this.base = null;
    this.work = null;
  }
}
