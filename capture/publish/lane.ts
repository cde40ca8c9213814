/**
 * One publish lane: the rules every published picture follows, the camera's full size and each rendition
 * alike. At most one publish in flight (a frame that finds one is dropped and counted, never queued, so
 * memory stays flat through a Redis outage); a JPEG over MAX_FRAME_BYTES is dropped (logged once);
 * µStreamer's drop-same-frames: a static scene costs one frame a keep-alive interval; the latest-frame key
 * is written at most every LATEST_EVERY_MS, so that a replica's link carries each frame about once.
 */
import type { FrameBus, Rendition } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import type { Logger } from '../../lib/log.js';

export interface LaneRules {
  bus: FrameBus;
  log: Logger;
  latestTtlMs: number;
  /**
   * Store a frame as the latest-frame key at most this often (0: every frame). The key serves a gateway's
   * first viewer of a camera; every write of it is a second copy of the frame on each replica's link.
   */
  latestEveryMs?: number;
  /** Skip a frame whose JPEG is identical to the last one published, unless keepAliveMs have passed. */
  dropSameFrames: boolean;
  keepAliveMs: number;
  /** A JPEG larger than this is dropped (and counted) rather than sent through Redis to every gateway. */
  maxFrameBytes: number;
}

/** What lanes count; one set may be shared by several lanes (all of a camera's renditions). */
export interface PublishCounters {
  published: number;
  droppedBusy: number;
  droppedDown: number;
  droppedSame: number;
  droppedTooBig: number;
}

export interface LaneEvents {
  /** The log line for the first frame dropped as too big. */
  tooBigMessage: string;
  published(frame: Frame): void;
  failed(err: Error): void;
}

export class PublishLane {
  private inFlight = false;
  private lastSent: Frame | null = null;
  private latestStoredAt = Number.NEGATIVE_INFINITY;

  /** rendition: the width whose channel this lane publishes on; null for the camera's full size. */
  constructor(
    private readonly rules: LaneRules,
    private readonly counters: PublishCounters,
    private readonly events: LaneEvents,
    private readonly rendition: Rendition = null,
  ) {}

  offer(frame: Frame): void {
    const { rules, counters } = this;
    if (frame.jpeg.length > rules.maxFrameBytes) {
      if (counters.droppedTooBig++ === 0) {
        const where = this.rendition === null ? {} : { width: frame.width };
        rules.log.error({ ...where, bytes: frame.jpeg.length, maxFrameBytes: rules.maxFrameBytes }, this.events.tooBigMessage);
      }
      return;
    }
    if (this.inFlight) {
      counters.droppedBusy++;
      return;
    }
    if (this.isRepeat(frame)) {
      counters.droppedSame++;
      return;
    }
    this.lastSent = frame;
    this.inFlight = true;
    const store = frame.timestamp - this.latestStoredAt >= (rules.latestEveryMs ?? 0);
    if (store) this.latestStoredAt = frame.timestamp;
    rules.bus.publish(frame, store ? rules.latestTtlMs : null, this.rendition).then(
      () => {
        this.inFlight = false;
        counters.published++;
        this.events.published(frame);
      },
      (err: Error) => {
        this.inFlight = false;
        counters.droppedDown++;
        this.events.failed(err);
      },
    );
  }

  private isRepeat(frame: Frame): boolean {
    const last = this.lastSent;
    return this.rules.dropSameFrames && last !== null && frame.timestamp - last.timestamp < this.rules.keepAliveMs && frame.jpeg.equals(last.jpeg);
  }
}

/** The last 60 JPEG encode times, for the camera info's median. */
export class EncodeTimes {
  private readonly ms: number[] = [];

  add(ms: number): void {
    this.ms.push(ms);
    if (this.ms.length > 60) this.ms.shift();
  }

  clear(): void {
    this.ms.length = 0;
  }

  /** Median (ms, two decimals), null before the first. */
  median(): number | null {
    if (this.ms.length === 0) return null;
    const xs = [...this.ms].sort((a, b) => a - b);
    return Math.round(xs[Math.floor(xs.length / 2)]! * 100) / 100;
  }
}
