/**
 * Latest frame wins from the bus to the sockets. Each camera's newest frame is handed to its viewers in a
 * *round*, done in slices of at most `sliceMs` of work; between slices the event loop runs, so reading from
 * Redis, new viewers, health checks, snapshots and socket drains never wait behind a fan-out to thousands
 * of sockets. A frame that arrives during a round replaces the older one for the viewers the round has not
 * reached yet; once the round ends, a new one hands it to the viewers reached before. Nothing queues: a
 * frame replaced before it reached every viewer is counted as superseded, and Redis's output buffer for
 * this gateway stays at about one frame whatever the load.
 */
import type { Rendition } from '../../bus/bus.js';
import type { FramePacket } from './packet.js';
import type { Viewer } from './viewer.js';
import { addDeliveryTime } from './delivery-time.js';

/** One camera as this gateway delivers it: its viewers, its newest frame, the round handing it out. */
export class Feed {
  readonly viewers = new Set<Viewer>();
  /** The newest camera frame (never a placeholder): for new viewers and snapshots. */
  latest: FramePacket | null = null;
  /** What the fan-out hands out next: the newest frame, or a "no signal" placeholder. */
  outgoing: FramePacket | null = null;
  /** True while `outgoing` has not been handed to any viewer yet. */
  unsent = false;
  framesReceived = 0;
  /** Camera frames replaced by a newer one before they reached every viewer. */
  superseded = 0;
  /** The round in progress: where it is in `viewers`, what it started with, when. */
  cursor: Iterator<Viewer> | null = null;
  roundPacket: FramePacket | null = null;
  roundStartedAt = 0;
  /** When this gateway started watching the camera (ms since the epoch). */
  readonly createdAt = Date.now();

  constructor(
    readonly camera: string,
    readonly rendition: Rendition = null,
  ) {}
}

/** A feed's key: the camera, or camera@width for one of its renditions. */
export function feedKey(camera: string, rendition: Rendition): string {
  return rendition === null ? camera : `${camera}@${rendition}`;
}

export interface FanOutOptions {
  /** Longest stretch of fan-out work between two turns of the event loop. */
  sliceMs: number;
  /** Called when a round has reached every viewer, with its duration (ms). */
  onRound?: (feed: Feed, ms: number) => void;
  /** A viewer threw while being handed a frame (logged by the hub); the round goes on. */
  onViewerError?: (err: Error) => void;
  /** Testing aid: extra busy time per viewer reached (µs), to make a gateway slower than its cameras. */
  simulatedCostUs?: number;
}

export class FanOut {
  /** Feeds with a round in progress, in turn order. */
  private readonly active: Feed[] = [];
  private scheduled = false;
  private running = false;

  constructor(private readonly o: FanOutOptions) {}

  /** Hands `packet` to every viewer of the feed, as soon as the loop allows; newer packets replace it. */
  push(feed: Feed, packet: FramePacket): void {
    // The frame being handed out has not reached every viewer yet: the rest get this one instead.
    if ((feed.unsent || feed.cursor !== null) && !feed.outgoing!.placeholder) feed.superseded++;
    feed.outgoing = packet;
    feed.unsent = true;
    if (feed.cursor !== null) return; // the round in progress takes it to the viewers it has not reached
    this.startRound(feed);
    // Idle: start at once (lowest latency); busy: the scheduled slice will get to it.
    if (!this.running && !this.scheduled) this.runSlice();
  }

  /** Rounds in progress (for tests and stats). */
  get busy(): boolean {
    return this.active.length > 0;
  }

  private startRound(feed: Feed): void {
    feed.cursor = feed.viewers.values();
    feed.roundPacket = feed.outgoing;
    feed.roundStartedAt = performance.now();
    this.active.push(feed);
  }

  private readonly runSlice = (): void => {
    this.scheduled = false;
    this.running = true;
    const start = performance.now();
    const deadline = start + this.o.sliceMs;
    try {
      while (this.active.length > 0) {
        const feed = this.active.shift()!;
        if (!this.advance(feed, deadline)) {
          this.active.push(feed); // out of time: the other cameras go first next slice
          break;
        }
        // Viewers reached early in the round got an older frame than the newest: one more round.
        if (feed.outgoing !== feed.roundPacket) this.startRound(feed);
      }
    } finally {
      this.running = false;
      addDeliveryTime(performance.now() - start);
    }
    if (this.active.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runSlice);
    }
  };

  /**
   * Offers the feed's newest packet to the viewers its round has not reached; false when time ran out.
   * All inside one viewer's cork when its transport has one: one call into uWS per viewer instead of two.
   */
  private advance(feed: Feed, deadline: number): boolean {
    const anchor = feed.viewers.values().next().value;
    let done = false;
    const run = (): void => {
      done = this.offerAll(feed, deadline);
    };
    if (anchor === undefined || !anchor.shareCork(run)) run();
    return done;
  }

  private offerAll(feed: Feed, deadline: number): boolean {
    const packet = feed.outgoing!;
    feed.unsent = false;
    const cursor = feed.cursor!;
    const cost = this.o.simulatedCostUs ?? 0;
    for (let n = 1; ; n++) {
      const next = cursor.next();
      if (next.done === true) {
        feed.cursor = null;
        this.o.onRound?.(feed, performance.now() - feed.roundStartedAt);
        return true;
      }
      try {
        next.value.offer(packet);
      } catch (err) {
        // One viewer's transport failing must not stop its camera's rounds for everyone else.
        this.o.onViewerError?.(err as Error);
      }
      if (cost > 0) spin(cost);
      // Reading the clock costs little, but not nothing: look at it every 8 viewers.
      if ((n & 7) === 0 && performance.now() >= deadline) return false;
    }
  }
}

function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}
