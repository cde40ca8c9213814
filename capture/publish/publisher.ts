/**
 * Hands encoded frames to the bus through a publish lane (lane.ts: at most one publish in flight, a frame
 * dropped and counted rather than queued, so memory stays flat through an outage). Announces the camera
 * (size, measured fps, last frame, the renditions being encoded) about once a second for /api/cameras, in an
 * entry that expires unless renewed.
 */
import type { CameraInfo } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import type { DemandState } from '../demand.js';
import { EncodeTimes, PublishLane, type PublishCounters } from './lane.js';
import { RenditionPublisher, type RenditionPublisherOptions } from './rendition-publisher.js';

/** As for renditions, plus what the camera announces about itself. */
export interface PublisherOptions extends RenditionPublisherOptions {
  info: Pick<CameraInfo, 'camera' | 'source' | 'width' | 'height' | 'targetFps'>;
  /** IDLE_FPS: with no viewer the camera announces itself idle only when it slows down. */
  idleFps: number;
  /** CAMERA_GONE_MS: gateways drop the camera after this long without an announcement. */
  cameraGoneMs: number;
}

/**
 * The camera's entry outlives CAMERA_GONE_MS by this much: a gateway drops a silent camera by its updatedAt
 * first, as before; the expiry then clears the entry of a capture that died, which nobody else may delete.
 */
const ENTRY_MARGIN_MS = 5000;

export class Publisher implements PublishCounters {
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
  private readonly encodeMs = new EncodeTimes();
  private readonly lane: PublishLane;
  private down = false;
  private lastFrame: Frame | null = null;
  private windowCount = 0;
  private fps = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: PublisherOptions) {
    const { bus, log, latestTtlMs, latestEveryMs, dropSameFrames, keepAliveMs, maxFrameBytes } = opts;
    this.renditions = new RenditionPublisher({
      bus,
      log,
      latestTtlMs,
      ...(latestEveryMs === undefined ? {} : { latestEveryMs }),
      dropSameFrames,
      keepAliveMs,
      maxFrameBytes,
    });
    this.lane = new PublishLane(opts, this, {
      tooBigMessage: 'frame larger than MAX_FRAME_BYTES dropped: lower JPEG_QUALITY or the size, or raise MAX_FRAME_BYTES',
      published: (frame) => this.onPublished(frame),
      failed: (err) => this.onFailed(err),
    });
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    this.announce();
  }

  /** Who watches now (Demand): the renditions listed in the camera info, and whether it is idle. */
  setDemand(demand: DemandState): void {
    this.renditions.setWatched(demand.renditions);
    this.idle = !demand.watching && this.opts.idleFps > 0;
  }

  setMode(mode: NonNullable<CameraInfo['mode']>): void {
    if (mode === this.mode) return;
    this.mode = mode;
    // Encode times of the other mode would describe frames that are no longer made that way.
    this.encodeMs.clear();
    this.announce();
  }

  /** Takes a frame and how long its JPEG encode took (ms; null for a camera's JPEG passed through). */
  offer(frame: Frame, encodeMs: number | null): void {
    if (encodeMs !== null) this.encodeMs.add(encodeMs);
    this.lane.offer(frame);
  }

  private onPublished(frame: Frame): void {
    this.windowCount++;
    const first = this.lastFrame === null;
    this.lastFrame = frame;
    // Viewers can find the camera as soon as it has a picture, not a second later.
    if (first) this.announce();
    if (this.down) {
      this.down = false;
      this.opts.log.info({ droppedWhileDown: this.droppedDown }, 'publishing again');
    }
  }

  private onFailed(err: Error): void {
    if (this.down) return;
    this.down = true;
    this.opts.log.error({ err: err.message }, 'cannot publish to Redis; dropping frames until it is back');
  }

  /** A rendition of a frame (renditions/encoder.ts): published on its width's channel. */
  offerRendition(frame: Frame, encodeMs: number): void {
    this.renditions.offerRendition(frame, encodeMs);
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
    this.opts.bus.announce(info, this.opts.cameraGoneMs + ENTRY_MARGIN_MS).catch(() => undefined);
  }

  /** Median JPEG encode time (ms) of the last 60 frames, null before the first. */
  encodeMedianMs(): number | null {
    return this.encodeMs.median();
  }

  get measuredFps(): number {
    return this.fps;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
