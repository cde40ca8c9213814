/**
 * Which cameras are watched on this gateway. A camera's channel is subscribed on its first viewer and
 * unsubscribed a short linger after its last; each arriving frame becomes one FramePacket that the fan-out
 * (fanout.ts) hands to every viewer of that camera, latest frame wins. A new viewer gets the freshest frame
 * at once (from memory, else Redis), not behind a fan-out round.
 */
import type { CameraInfo, FrameBus, Rendition, Unsubscribe } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import type { Logger } from '../../lib/log.js';
import { countBacklog, type Backlog } from './backlog.js';
import { CameraList } from './camera-list.js';
import { FanOut, Feed, feedKey } from './fanout.js';
import { FrameCheck } from './frame-check.js';
import { FramePacket } from './packet.js';
import { LateFrames } from './late-frames.js';
import { Totals, type CameraTotals } from '../ops/totals.js';
import type { Viewer } from './viewer.js';
import { Watchdog } from './watchdog.js';
import { Adapter } from '../adaptation/adapter.js';

/** A camera's feed while this gateway watches it: delivery state plus its subscription. */
class WatchedFeed extends Feed {
  subscribed: Promise<Unsubscribe> | null = null;
  linger: NodeJS.Timeout | null = null;
  late: LateFrames | null = null;
}

export interface HubOptions {
  bus: FrameBus;
  log: Logger;
  liveTimeoutMs: number;
  unsubscribeLingerMs: number;
  /** A viewer whose socket has taken no byte for this long is closed. */
  stallCloseMs: number;
  /** Longest stretch of fan-out work before the event loop gets a turn. */
  fanoutSliceMs?: number;
  /** Testing aid (see FanOutOptions.simulatedCostUs). */
  simulatedCostUs?: number;
  maxFrameBytes: number;
  maxClockSkewMs: number;
  /** LATE_FRAME_MS: a frame from the subscription this much later than the feed's quickest is dropped (late-frames.ts). */
  lateFrameMs: number;
  /** A camera not announced for this long is gone: dropped from the list, its streams ended. */
  cameraGoneMs: number;
  /** RENDITION_WIDTHS: the pictures adapting viewers move between. */
  renditionWidths: readonly number[];
}

export class CameraHub {
  private readonly feeds = new Map<string, WatchedFeed>();
  private readonly fanout: FanOut;
  readonly list: CameraList;
  readonly check: FrameCheck;
  /** Frames from the subscription dropped as late (a replica's replayed backlog). */
  lateDropped = 0;
  private readonly sweeper: NodeJS.Timeout;
  readonly watchdog: Watchdog;
  private readonly adapter: Adapter;
  /** Viewers that threw while being handed a frame (a bug, logged): the round went on without them. */
  viewerErrors = 0;
  private readonly sinceStart = new Totals();
  /** Called once per frame arriving from the bus (frame age metric). */
  onFrameArrived: ((frame: Frame) => void) | null = null;
  /** Called when a frame has been handed to every viewer of its camera, with how long that took (ms). */
  onRound: ((camera: string, ms: number) => void) | null = null;

  constructor(private readonly o: HubOptions) {
    this.fanout = new FanOut({
      sliceMs: o.fanoutSliceMs ?? 4,
      simulatedCostUs: o.simulatedCostUs ?? 0,
      onRound: (feed, ms) => this.onRound?.(feed.camera, ms),
      onViewerError: (err) => {
        this.viewerErrors++;
        if (this.viewerErrors === 1 || this.viewerErrors % 1000 === 0)
          o.log.error({ err: err.message, count: this.viewerErrors }, 'a viewer failed while being handed a frame');
      },
    });
    this.list = new CameraList({ bus: o.bus, log: o.log, goneMs: o.cameraGoneMs });
    this.check = new FrameCheck(o);
    const feeds = this.feeds;
    this.watchdog = new Watchdog(o, {
      feeds: () => feeds.values(),
      get feedCount() {
        return feeds.size;
      },
      list: this.list,
      isFresh: (t) => this.isFresh(t),
      push: (feed, packet) => this.fanout.push(feed, packet),
      unwatch: (v) => this.unwatch(v),
    });
    this.adapter = new Adapter(o, { feeds: () => feeds.values(), lastKnown: (c) => this.list.lastKnown(c), move: (v, r) => this.move(v, r) });
    // One timer for all viewers: nothing is allocated per viewer per frame to watch for stalls.
    this.sweeper = setInterval(
      () => {
        this.watchdog.sweep();
        this.adapter.sweep();
      },
      Math.min(1000, o.stallCloseMs / 2),
    );
    this.sweeper.unref();
  }

  /** Known cameras are those a capture has announced within CAMERA_GONE_MS. */
  cameras(): Promise<CameraInfo[]> {
    return this.list.all();
  }

  isKnown(camera: string): Promise<boolean> {
    return this.list.has(camera);
  }

  /** The camera list could not be read the last time it was asked for (Redis did not answer in time). */
  get listUnreachable(): boolean {
    return this.list.lastListingFailed;
  }

  /** A frame captured at this time (ms since the epoch) still counts as live. */
  isFresh(timestamp: number): boolean {
    return Date.now() - timestamp < this.o.liveTimeoutMs;
  }

  /** Adds a viewer; resolves once it has been offered the freshest frame there is. */
  async watch(viewer: Viewer): Promise<void> {
    const feed = this.feed(viewer.camera, viewer.rendition);
    feed.viewers.add(viewer);
    if (feed.linger) {
      clearTimeout(feed.linger);
      feed.linger = null;
    }
    if (!feed.subscribed) {
      feed.subscribed = this.o.bus.subscribe(feed.camera, (frame) => this.onFrame(feed, frame), feed.rendition);
      feed.subscribed.then(
        // An idle capture (nobody watching anywhere) goes back to full rate now, not at its next poll.
        () => this.o.bus.requestFrames(feed.camera, feed.rendition).catch(() => undefined),
        (err: Error) => {
          this.o.log.error({ camera: feed.camera, err: err.message }, 'subscribe failed');
          feed.subscribed = null;
        },
      );
    }
    const first = await this.freshest(feed);
    if (first && !viewer.closed) viewer.offer(first);
  }

  unwatch(viewer: Viewer): void {
    const feed = this.feeds.get(feedKey(viewer.camera, viewer.rendition));
    if (!feed?.viewers.delete(viewer)) return;
    this.sinceStart.viewerLeft(viewer);
    if (feed.viewers.size > 0) return;
    feed.linger = setTimeout(() => this.release(feed), this.o.unsubscribeLingerMs);
  }

  /**
   * The freshest live frame of a camera (or rendition), from memory if we are subscribed, else from Redis.
   * A rendition nobody watches is not being encoded: ask the capture for it and wait up to waitMs.
   */
  async snapshot(camera: string, rendition: Rendition = null, waitMs = 1500): Promise<FramePacket | null> {
    const feed = this.feeds.get(feedKey(camera, rendition)) ?? { camera, rendition, latest: null };
    const now = await this.freshest(feed);
    if (now || rendition === null) return now;
    await this.o.bus.requestFrames(camera, rendition).catch(() => undefined);
    for (const until = Date.now() + waitMs; Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 50));
      const frame = await this.freshest(feed);
      if (frame) return frame;
    }
    return null;
  }

  /** Moves a viewer to another picture of its camera (adaptation): the new feed's freshest frame goes at once. */
  async move(viewer: Viewer, rendition: Rendition): Promise<void> {
    if (viewer.rendition === rendition || viewer.closed) return;
    this.unwatch(viewer);
    viewer.rendition = rendition;
    await this.watch(viewer);
  }

  /** Frames a second a viewer of this camera would get: what its capture last announced, else its target. */
  frameRate(camera: string): number {
    const info = this.list.lastKnown(camera);
    return info ? Math.max(info.fps, 1) : 30;
  }

  /** Viewers of a camera (all its pictures), or of every camera. */
  /** The camera's own width as its capture announced it (0 when unknown). */
  cameraWidth(camera: string): number {
    return this.list.lastKnown(camera)?.width ?? 0;
  }

  viewerCount(camera?: string): number {
    let n = 0;
    for (const f of this.feeds.values()) if (camera === undefined || f.camera === camera) n += f.viewers.size;
    return n;
  }

  /** Every viewer of every camera now. */
  *allViewers(): Generator<Viewer> {
    for (const f of this.feeds.values()) yield* f.viewers;
  }

  /** How many connections back up now (capacity's link measure, once a sample). */
  backlog(): Backlog {
    return countBacklog(this.allViewers(), performance.now());
  }

  /** Per camera totals since start (for counters) and viewers now (for gauges). */
  totals(): Map<string, CameraTotals & { viewers: number }> {
    return this.sinceStart.snapshot(this.feeds.values());
  }

  /** Per camera and per viewer figures for /api/stats (µStreamer's /state). */
  stats(): Record<string, unknown> {
    const now = performance.now();
    const feeds = [...this.feeds.values()];
    return {
      cameras: feeds.map((f) => ({
        camera: f.camera,
        width: f.rendition,
        subscribed: f.subscribed !== null,
        viewers: f.viewers.size,
        framesReceived: f.framesReceived,
        superseded: f.superseded,
        lastFrameAt: f.latest?.frame.timestamp ?? null,
      })),
      viewers: feeds.flatMap((f) => [...f.viewers].map((v) => v.snapshot(now))),
      stallClosed: this.watchdog.stallClosed,
    };
  }

  /** Ends every stream at a part boundary; after graceMs whatever is still sending is cut (shutdown). */
  async endAll(graceMs: number): Promise<void> {
    const all = [...this.feeds.values()].flatMap((f) => [...f.viewers]);
    for (const v of all) v.end();
    const until = Date.now() + graceMs;
    while (all.some((v) => !v.closed) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const v of all) v.close();
  }

  private async freshest(feed: Pick<WatchedFeed, 'camera' | 'rendition' | 'latest'>): Promise<FramePacket | null> {
    if (feed.latest && this.isFresh(feed.latest.frame.timestamp)) return feed.latest;
    let frame: Frame | null = null;
    try {
      frame = await this.o.bus.latest(feed.camera, feed.rendition);
    } catch (err) {
      this.o.log.warn({ camera: feed.camera, err: (err as Error).message }, 'cannot read latest frame');
    }
    if (!frame || !this.check.accepts(frame) || !this.isFresh(frame.timestamp)) return null;
    // A live frame may have arrived while we waited: keep whichever is newer.
    if (feed.latest && feed.latest.frame.timestamp >= frame.timestamp) return feed.latest;
    feed.latest = new FramePacket(frame);
    return feed.latest;
  }

  /** Runs as the Redis subscriber reads a frame: cheap, so that reading never waits behind fan-out work. */
  private onFrame(feed: WatchedFeed, frame: Frame): void {
    if (!this.check.accepts(frame)) return;
    feed.late ??= new LateFrames(this.o.lateFrameMs);
    if (feed.late.late(frame.timestamp, Date.now())) {
      this.lateDropped++;
      return;
    }
    const packet = new FramePacket(frame);
    feed.latest = packet;
    feed.framesReceived++;
    this.onFrameArrived?.(frame);
    this.fanout.push(feed, packet);
  }

  private feed(camera: string, rendition: Rendition): WatchedFeed {
    const key = feedKey(camera, rendition);
    let feed = this.feeds.get(key);
    if (!feed) {
      feed = new WatchedFeed(camera, rendition);
      this.feeds.set(key, feed);
    }
    return feed;
  }

  private release(feed: WatchedFeed): void {
    feed.linger = null;
    if (feed.viewers.size > 0) return;
    this.feeds.delete(feedKey(feed.camera, feed.rendition));
    this.sinceStart.feedReleased(feed);
    const sub = feed.subscribed;
    feed.subscribed = null;
    sub?.then((unsubscribe) => unsubscribe()).catch(() => undefined);
  }

  /** Stops lingering timers (shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    for (const feed of this.feeds.values()) if (feed.linger) clearTimeout(feed.linger);
  }
}
