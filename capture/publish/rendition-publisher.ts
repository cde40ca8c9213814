/**
 * Publishes a camera's renditions, each on its own channel and latest-frame key (bus.publish with the
 * rendition's width), through one publish lane per width (lane.ts: the same rules as the full size).
 * Measures each width's rate and frame size for the camera info (CameraInfo.renditions).
 */
import type { RenditionInfo } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import type { RenditionSink } from '../renditions/encoder.js';
import { getOrCreate } from '../../lib/maps.js';
import { EncodeTimes, PublishLane, type LaneRules, type PublishCounters } from './lane.js';

export type RenditionPublisherOptions = LaneRules;

interface WidthState {
  lane: PublishLane;
  last: Frame | null;
  lastPublishedAt: number;
  windowCount: number;
  fps: number;
}

export class RenditionPublisher implements RenditionSink, PublishCounters {
  published = 0;
  droppedBusy = 0;
  droppedDown = 0;
  droppedSame = 0;
  droppedTooBig = 0;
  private readonly widths = new Map<number, WidthState>();
  private readonly encodeMs = new EncodeTimes();
  /** The widths being encoded now (Demand), and since when. */
  private watched = new Map<number, number>();

  constructor(private readonly o: RenditionPublisherOptions) {}

  offerRendition(frame: Frame, encodeMs: number): void {
    this.encodeMs.add(encodeMs);
    this.state(frame.width).lane.offer(frame);
  }

  /** The widths being watched now: only those are listed in the camera info. */
  setWatched(widths: readonly number[]): void {
    const now = Date.now();
    this.watched = new Map(widths.map((w) => [w, this.watched.get(w) ?? now]));
  }

  private state(width: number): WidthState {
    return getOrCreate(this.widths, width, () => {
      const state: WidthState = { lane: this.laneFor(width, () => state), last: null, lastPublishedAt: 0, windowCount: 0, fps: 0 };
      return state;
    });
  }

  private laneFor(width: number, state: () => WidthState): PublishLane {
    const events = {
      tooBigMessage: 'rendition larger than MAX_FRAME_BYTES dropped',
      published: (frame: Frame) => {
        const s = state();
        s.last = frame;
        s.lastPublishedAt = Date.now();
        s.windowCount++;
      },
      // The camera's own publisher reports a Redis outage; renditions only count what they lose to it.
      failed: () => undefined,
    };
    return new PublishLane(this.o, this, events, width);
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
    return this.encodeMs.median();
  }
}
