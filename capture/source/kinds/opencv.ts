/**
 * Camera devices, files, network streams and GStreamer pipelines, all through OpenCV's VideoCapture. A
 * V4L2 camera that offers MJPEG hands out its own JPEGs (v4l2.ts decides); everything else is decoded.
 */
import cv from './cv.js';
import { jpegFrame } from './frames.js';
import { describeSpec } from './describe.js';
import { ffmpegOptions, probeForFfmpeg, type HttpOpenOptions } from './http-open.js';
import { decodedFrame, isHttpSource, SourceError, type FrameSource, type SourceFrame, type SourceSpec } from './source.js';
import { classifyDeviceFrame, FOURCC_MJPG, negotiateMjpeg, type V4l2Negotiation } from './v4l2.js';

type OpenCvSpec = Exclude<SourceSpec, { kind: 'test' }>;

/** How an http(s) camera is probed for its redirects before FFmpeg opens it (http-open.ts). */
export type RedirectProbe = Omit<HttpOpenOptions, 'description' | 'onRequest'>;

export class OpenCvSource implements FrameSource {
  readonly description: string;
  delivers = 'decoded frames';
  private capture: InstanceType<typeof cv.VideoCapture> | null = null;
  private raw = false;

  constructor(
    private readonly spec: OpenCvSpec,
    /** rawMjpeg: try the V4L2 camera's own MJPEG (CAPTURE_PASSTHROUGH is not off); probe: for http(s) cameras. */
    private readonly size: { width: number | 'source'; height: number | 'source'; fps: number; rawMjpeg: boolean; probe: RedirectProbe },
  ) {
    this.description = describeSpec(spec);
  }

  async open(): Promise<void> {
    this.close();
    // FFmpeg would follow any redirect by itself: the capture decides them first (CAPTURE_REDIRECTS).
    const url = isHttpSource(this.spec) ? await probeForFfmpeg(this.spec.url, { ...this.size.probe, description: this.description }) : null;
    try {
      this.capture = this.create(url);
    } catch (err) {
      // OpenCV's own message is empty or "failed to open capture": say which source and what to check.
      throw new SourceError(`cannot open ${this.description}: ${this.hint()} (OpenCV: ${(err as Error).message || 'no detail'})`);
    }
    if (this.spec.kind === 'device') this.configureDevice(this.capture);
  }

  /** The format first (it renegotiates the device), then the size, rate and queue. */
  private configureDevice(capture: InstanceType<typeof cv.VideoCapture>): void {
    const negotiation = this.negotiate(capture);
    this.raw = negotiation.raw;
    this.delivers = negotiation.note;
    if (this.size.width !== 'source') capture.set(cv.CAP_PROP_FRAME_WIDTH, this.size.width);
    if (this.size.height !== 'source') capture.set(cv.CAP_PROP_FRAME_HEIGHT, this.size.height);
    capture.set(cv.CAP_PROP_FPS, this.size.fps);
    // Keep the driver from queueing stale frames: we want the newest one each tick.
    capture.set(cv.CAP_PROP_BUFFERSIZE, 1);
  }

  private negotiate(capture: InstanceType<typeof cv.VideoCapture>): V4l2Negotiation {
    if (!this.size.rawMjpeg) return negotiateMjpeg(false, null);
    const accepted = capture.set(cv.CAP_PROP_FOURCC, FOURCC_MJPG) && capture.set(cv.CAP_PROP_CONVERT_RGB, 0);
    const result = negotiateMjpeg(true, accepted ? { fourcc: capture.get(cv.CAP_PROP_FOURCC), convertRgb: capture.get(cv.CAP_PROP_CONVERT_RGB) } : null);
    if (!result.raw) capture.set(cv.CAP_PROP_CONVERT_RGB, 1);
    return result;
  }

  private create(probedUrl: string | null): InstanceType<typeof cv.VideoCapture> {
    switch (this.spec.kind) {
      case 'device':
        return new cv.VideoCapture(this.spec.index, cv.CAP_V4L2);
      case 'file':
        return new cv.VideoCapture(this.spec.path);
      case 'url':
        process.env.OPENCV_FFMPEG_CAPTURE_OPTIONS = ffmpegOptions(process.env.OPENCV_FFMPEG_CAPTURE_OPTIONS);
        return new cv.VideoCapture(probedUrl ?? this.spec.url, cv.CAP_FFMPEG);
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

  async read(): Promise<SourceFrame | null> {
    if (!this.capture) throw new SourceError(`${this.description} is not open`);
    const mat = await this.capture.readAsync();
    if (mat.empty) return null;
    if (!this.raw) return decodedFrame(mat);
    const frame = classifyDeviceFrame(mat, () => mat.getData());
    switch (frame.kind) {
      case 'decoded':
        return decodedFrame(mat);
      case 'jpeg':
        return jpegFrame(frame.jpeg, frame.info.width, frame.info.height);
      case 'jpeg-to-decode':
        this.delivers = `the camera's MJPEG, decoded: ${frame.reason}`;
        return this.decodeOnly(frame.jpeg);
      case 'broken':
        // Skipped like a dropped frame; a camera that only sends these stalls and is reopened.
        return null;
    }
  }

  private async decodeOnly(jpeg: Buffer): Promise<SourceFrame> {
    const mat = await cv.imdecodeAsync(jpeg);
    if (mat.empty) throw new SourceError(`OpenCV cannot decode the JPEG of ${this.description}`);
    return decodedFrame(mat);
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
