/**
 * Hands encoded frames to the bus with at most one publish in flight: when Redis is slow or down a frame
 * is dropped (and counted), never queued, so memory stays flat through an outage. Announces the camera
 * (size, measured fps, last frame, the renditions being encoded) about once a second for /api/cameras.
 */
import type { CameraInfo } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import { RenditionPublisher, type RenditionPublisherOptions } from './rendition-publisher.js';

/** As for renditions, plus what the camera announces about itself. */
export interface PublisherOptions extends RenditionPublisherOptions {
  info: Pick<CameraInfo, 'camera' | 'source' | 'width' | 'height' | 'targetFps'>;
}

export class Publisher {
  published = 0;
  droppedBusy = 0;
  droppedDown = 0;
  droppedSame = 0;
  droppedTooBig = 0;
  idle = false;
  /** The camera's renditions (RENDITION_WIDTHS being watched), published by the same rules. */
  readonly renditions: RenditionPublisher;
  /** Set by the pipeline's first frame and whenever it changes; announced at once. */
  private mode: CameraInfo['mode'] | null = null;
  private lastSent: Frame | null = null;
  private readonly encodeMs: number[] = [];
  private inFlight = false;
  private down = false;
  private lastFrame: Frame | null = null;
  private windowCount = 0;
  private fps = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: PublisherOptions) {
    const { bus, log, latestTtlMs, dropSameFrames, keepAliveMs, maxFrameBytes } = opts;
    this.renditions = new RenditionPublisher({ bus, log, latestTtlMs, dropSameFrames, keepAliveMs, maxFrameBytes });
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    this.announce();
  }

  setMode(mode: NonNullable<CameraInfo['mode']>): void {
    if (mode === this.mode) return;
    this.mode = mode;
    // Encode times of the other mode would describe frames that are no longer made that way.
    this.encodeMs.length = 0;
    this.announce();
  }

  /** Takes a frame and how long its JPEG encode took (ms; null for a camera's JPEG passed through). */
  offer(frame: Frame, encodeMs: number | null): void {
    if (encodeMs !== null) this.encodeMs.push(encodeMs);
    if (this.encodeMs.length > 60) this.encodeMs.shift();
    if (frame.jpeg.length > this.opts.maxFrameBytes) {
      if (this.droppedTooBig++ === 0) {
        this.opts.log.error(
          { bytes: frame.jpeg.length, maxFrameBytes: this.opts.maxFrameBytes },
          'frame larger than MAX_FRAME_BYTES dropped: lower JPEG_QUALITY or the size, or raise MAX_FRAME_BYTES',
        );
      }
      return;
    }
    if (this.inFlight) {
      this.droppedBusy++;
      return;
    }
    if (this.isRepeat(frame)) {
      this.droppedSame++;
      return;
    }
    this.lastSent = frame;
    this.inFlight = true;
    this.opts.bus.publish(frame, this.opts.latestTtlMs).then(
      () => {
        this.inFlight = false;
        this.published++;
        this.windowCount++;
        const first = this.lastFrame === null;
        this.lastFrame = frame;
        // Viewers can find the camera as soon as it has a picture, not a second later.
        if (first) this.announce();
        if (this.down) {
          this.down = false;
          this.opts.log.info({ droppedWhileDown: this.droppedDown }, 'publishing again');
        }
      },
      (err: Error) => {
        this.inFlight = false;
        this.droppedDown++;
        if (!this.down) {
          this.down = true;
          this.opts.log.error({ err: err.message }, 'cannot publish to Redis; dropping frames until it is back');
        }
      },
    );
  }

  /** A rendition of a frame (renditions/encoder.ts): published on its width's channel. */
  offerRendition(frame: Frame, encodeMs: number): void {
    this.renditions.offerRendition(frame, encodeMs);
  }

  /** µStreamer's drop-same-frames: a static scene costs one frame a keep-alive interval. */
  private isRepeat(frame: Frame): boolean {
    const last = this.lastSent;
    return this.opts.dropSameFrames && last !== null && frame.timestamp - last.timestamp < this.opts.keepAliveMs && frame.jpeg.equals(last.jpeg);
  }

  private tick(): void {
    this.fps = this.windowCount;
    this.windowCount = 0;
    this.renditions.tick();
    this.announce();
  }

  private announce(): void {
    const last = this.lastFrame;
    const renditions = this.renditions.list();
    const info: CameraInfo = {
      ...this.opts.info,
      ...(last ? { width: last.width, height: last.height } : {}),
      fps: this.fps,
      idle: this.idle,
      encodeMsP50: this.encodeMedianMs(),
      ...(this.mode ? { mode: this.mode } : {}),
      lastFrameAt: last?.timestamp ?? 0,
      lastFrameBytes: last?.jpeg.length ?? 0,
      updatedAt: Date.now(),
      ...(renditions.length > 0 ? { renditions } : {}),
    };
    this.opts.bus.announce(info).catch(() => undefined);
  }

  /** Median JPEG encode time (ms) of the last 60 frames, null before the first. */
  encodeMedianMs(): number | null {
    if (this.encodeMs.length === 0) return null;
    const xs = [...this.encodeMs].sort((a, b) => a - b);
    return Math.round(xs[Math.floor(xs.length / 2)]! * 100) / 100;
  }

  get measuredFps(): number {
    return this.fps;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
