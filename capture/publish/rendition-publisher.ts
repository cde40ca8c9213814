/**
 * Publishes a camera's renditions, each on its own channel and latest-frame key (bus.publish with the
 * rendition's width), with the publisher's rules per width: at most one publish in flight (a frame that
 * finds one is dropped and counted, never queued), MAX_FRAME_BYTES, drop-same-frames with its keep-alive.
 * Measures each width's rate and frame size for the camera info (CameraInfo.renditions).
 */
import type { FrameBus, RenditionInfo } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import type { Logger } from '../../lib/log.js';
import type { RenditionSink } from '../renditions/encoder.js';
import { getOrCreate } from '../../lib/maps.js';

export interface RenditionPublisherOptions {
  bus: FrameBus;
  log: Logger;
  latestTtlMs: number;
  /** Skip a frame whose JPEG is identical to the last one published, unless keepAliveMs have passed. */
  dropSameFrames: boolean;
  keepAliveMs: number;
  /** A JPEG larger than this is dropped (and counted) rather than sent through Redis to every gateway. */
  maxFrameBytes: number;
}

interface WidthState {
  inFlight: boolean;
  lastSent: Frame | null;
  last: Frame | null;
  lastPublishedAt: number;
  windowCount: number;
  fps: number;
}

export class RenditionPublisher implements RenditionSink {
  published = 0;
  droppedBusy = 0;
  droppedDown = 0;
  droppedSame = 0;
  droppedTooBig = 0;
  private readonly widths = new Map<number, WidthState>();
  private readonly encodeMs: number[] = [];
  /** The widths being encoded now (Demand), and since when. */
  private watched = new Map<number, number>();

  constructor(private readonly o: RenditionPublisherOptions) {}

  offerRendition(frame: Frame, encodeMs: number): void {
    this.encodeMs.push(encodeMs);
    if (this.encodeMs.length > 60) this.encodeMs.shift();
    const state = this.state(frame.width);
    if (frame.jpeg.length > this.o.maxFrameBytes) {
      if (this.droppedTooBig++ === 0)
        this.o.log.error(
          { width: frame.width, bytes: frame.jpeg.length, maxFrameBytes: this.o.maxFrameBytes },
          'rendition larger than MAX_FRAME_BYTES dropped',
        );
      return;
    }
    if (state.inFlight) {
      this.droppedBusy++;
      return;
    }
    const last = state.lastSent;
    if (this.o.dropSameFrames && last && frame.timestamp - last.timestamp < this.o.keepAliveMs && frame.jpeg.equals(last.jpeg)) {
      this.droppedSame++;
      return;
    }
    state.lastSent = frame;
    state.inFlight = true;
    // The camera's own publisher reports a Redis outage; renditions only count what they lose to it.
    this.o.bus.publish(frame, this.o.latestTtlMs, frame.width).then(
      () => {
        state.inFlight = false;
        state.last = frame;
        state.lastPublishedAt = Date.now();
        state.windowCount++;
        this.published++;
      },
      () => {
        state.inFlight = false;
        this.droppedDown++;
      },
    );
  }

  /** The widths being watched now: only those are listed in the camera info. */
  setWatched(widths: readonly number[]): void {
    const now = Date.now();
    this.watched = new Map(widths.map((w) => [w, this.watched.get(w) ?? now]));
  }

  private state(width: number): WidthState {
    return getOrCreate(this.widths, width, () => ({ inFlight: false, lastSent: null, last: null, lastPublishedAt: 0, windowCount: 0, fps: 0 }));
  }

  /** Once a second: each width's frames over the last second. */
  tick(): void {
    for (const s of this.widths.values()) {
      s.fps = s.windowCount;
      s.windowCount = 0;
    }
  }

  /** The renditions being encoded now that have published a frame since they were asked for, narrowest first. */
  list(): RenditionInfo[] {
    const out: RenditionInfo[] = [];
    for (const [width, s] of this.widths) {
      const since = this.watched.get(width);
      if (since === undefined || !s.last || s.lastPublishedAt < since) continue;
      out.push({ width, height: s.last.height, fps: s.fps, lastFrameBytes: s.last.jpeg.length });
    }
    return out.sort((a, b) => a.width - b.width);
  }

  /** Median encode time (ms) of the last 60 renditions, null before the first. */
  encodeMedianMs(): number | null {
    if (this.encodeMs.length === 0) return null;
    const xs = [...this.encodeMs].sort((a, b) => a - b);
    return Math.round(xs[Math.floor(xs.length / 2)]! * 100) / 100;
  }
}
