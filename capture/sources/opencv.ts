/** Camera devices, files, network streams and GStreamer pipelines, all through OpenCV's VideoCapture. */
import cv, { type Mat } from './cv.js';
import { describeSpec, SourceError, type FrameSource, type SourceSpec } from './source.js';

type OpenCvSpec = Exclude<SourceSpec, { kind: 'test' }>;

export class OpenCvSource implements FrameSource {
  readonly description: string;
  private capture: InstanceType<typeof cv.VideoCapture> | null = null;

  constructor(
    private readonly spec: OpenCvSpec,
    private readonly size: { width: number; height: number; fps: number },
  ) {
    this.description = describeSpec(spec);
  }

  async open(): Promise<void> {
    this.close();
    try {
      this.capture = this.create();
    } catch (err) {
      // OpenCV's own message is empty or "failed to open capture": say which source and what to check.
      throw new SourceError(`cannot open ${this.description}: ${this.hint()} (OpenCV: ${(err as Error).message || 'no detail'})`);
    }
    if (this.spec.kind === 'device') {
      this.capture.set(cv.CAP_PROP_FRAME_WIDTH, this.size.width);
      this.capture.set(cv.CAP_PROP_FRAME_HEIGHT, this.size.height);
      this.capture.set(cv.CAP_PROP_FPS, this.size.fps);
      // Keep the driver from queueing stale frames: we want the newest one each tick.
      this.capture.set(cv.CAP_PROP_BUFFERSIZE, 1);
    }
  }

  private create(): InstanceType<typeof cv.VideoCapture> {
    switch (this.spec.kind) {
      case 'device':
        return new cv.VideoCapture(this.spec.index, cv.CAP_V4L2);
      case 'file':
        return new cv.VideoCapture(this.spec.path);
      case 'url':
        return new cv.VideoCapture(this.spec.url, cv.CAP_FFMPEG);
      case 'gstreamer':
        return new cv.VideoCapture(this.spec.pipeline, cv.CAP_GSTREAMER);
    }
  }

  private hint(): string {
    switch (this.spec.kind) {
      case 'device':
        return `no camera at ${this.spec.path}, or it is busy or not readable (check \`ls -l /dev/video*\` and that no other program holds it)`;
      case 'file':
        return 'the file is missing or is not a video OpenCV/FFmpeg can decode';
      case 'url':
        return 'the stream is unreachable, refused the connection, or uses an unsupported codec';
      case 'gstreamer':
        return 'the pipeline failed to start (it must end in appsink, e.g. "videotestsrc ! videoconvert ! appsink")';
    }
  }

  async read(): Promise<Mat | null> {
    if (!this.capture) throw new SourceError(`${this.description} is not open`);
    const mat = await this.capture.readAsync();
    return mat.empty ? null : mat;
  }

  rewind(): boolean {
    if (this.spec.kind !== 'file' || !this.capture) return false;
    return this.capture.set(cv.CAP_PROP_POS_FRAMES, 0);
  }

  close(): void {
    this.capture?.release();
    this.capture = null;
  }
}
