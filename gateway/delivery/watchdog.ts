/**
 * The hub's once-a-second duties towards the viewers it serves, none of them per frame:
 *   - stalled viewers: a socket that has taken nothing for STALL_CLOSE_MS is closed (counted, logged). That
 *     clock starts at the first write the socket refuses: a client that stops reading is not seen by the
 *     gateway until the kernel's buffers for its connection are full (MBs: seconds of video, config.ts);
 *     a /ws viewer with acknowledgements, from the oldest frame it has not acknowledged;
 *   - NO SIGNAL: viewers of a camera without a live frame get a placeholder about once a second;
 *   - gone cameras: a watched camera whose capture stopped announcing itself ends its streams.
 * Adaptation, the fourth, lives with the rest of it (adaptation/adapter.ts).
 */
import type { FrameBus } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';
import type { Logger } from '../../lib/log.js';
import type { CameraList } from './camera-list.js';
import type { Feed } from './fanout.js';
import { FramePacket } from './packet.js';
import { PLACEHOLDER_SIZE, renderNoSignal } from '../no-signal/placeholder.js';
import type { Viewer } from './viewer.js';

/**
 * uWebSockets.js closes a connection that takes no byte for about 10 s, before a longer STALL_CLOSE_MS.
 * Retrying the write of a blocked viewer (nothing is sent that the socket does not take) resets that
 * timer, so camfan's own stall rule decides, is counted and is logged.
 */
const UWS_IDLE_GUARD_MS = 4000;

/** What the watchdog needs of the hub. */
export interface WatchedHub {
  feeds(): Iterable<Feed>;
  readonly feedCount: number;
  readonly list: CameraList;
  isFresh(timestamp: number): boolean;
  push(feed: Feed, packet: FramePacket): void;
  unwatch(viewer: Viewer): void;
}

export interface WatchdogOptions {
  bus: FrameBus;
  log: Logger;
  stallCloseMs: number;
  cameraGoneMs: number;
}

export class Watchdog {
  /** Viewers closed because their socket stopped taking data. */
  stallClosed = 0;
  /** Cameras whose capture went away for good: their streams were ended. */
  camerasGone = 0;
  /** Since when Redis has been reachable without a break (0 while it is not). */
  private busReadySince = 0;

  constructor(
    private readonly o: WatchdogOptions,
    private readonly hub: WatchedHub,
  ) {}

  sweep(): void {
    this.closeStalled();
    this.showNoSignal();
    this.endGone();
  }

  /** Viewers of a camera without a live frame get a "no signal" picture about once a second. */
  private showNoSignal(): void {
    const now = Date.now();
    for (const feed of this.hub.feeds()) {
      if (feed.viewers.size === 0) continue;
      const last = feed.latest?.frame;
      // A feed that was just created has had no time to receive a frame yet.
      if (this.hub.isFresh(last?.timestamp ?? feed.createdAt)) continue;
      const jpeg = renderNoSignal(last ? now - last.timestamp : null);
      const frame: Frame = { camera: feed.camera, seq: last?.seq ?? 0, timestamp: now, ...PLACEHOLDER_SIZE, jpeg };
      this.hub.push(feed, new FramePacket(frame, true));
    }
  }

  private closeStalled(): void {
    const now = performance.now();
    for (const feed of this.hub.feeds()) {
      for (const v of feed.viewers) {
        const blocked = v.blockedFor(now);
        if (blocked < UWS_IDLE_GUARD_MS) continue;
        if (blocked < this.o.stallCloseMs) {
          v.retry();
          continue;
        }
        this.stallClosed++;
        // bytes: what its connection took, most of it into kernel buffers before the first write it refused.
        this.o.log.info({ camera: v.camera, blockedMs: Math.round(blocked), delivered: v.delivered, bytes: v.bytes }, 'closing stalled viewer');
        v.close();
      }
    }
  }

  /**
   * A watched camera whose capture stopped announcing itself (gone for good, not restarting) and has no
   * live frame: its viewers have seen NO SIGNAL since; their streams end now. Only judged while Redis has
   * been reachable for a while, so that an outage, or captures re-announcing after one, ends nothing.
   */
  private endGone(): void {
    if (!this.o.bus.isReady()) {
      this.busReadySince = 0;
      return;
    }
    this.busReadySince ||= Date.now();
    if (this.hub.feedCount === 0) return;
    void this.hub.list.refresh();
    if (Date.now() - this.busReadySince < 5000 || this.hub.list.listedAtMs < this.busReadySince + 2000) return;
    for (const feed of this.hub.feeds()) {
      if (feed.viewers.size === 0 || this.hub.list.lastKnown(feed.camera) || this.hub.isFresh(feed.latest?.frame.timestamp ?? feed.createdAt)) continue;
      this.camerasGone++;
      this.o.log.warn(
        { camera: feed.camera, viewers: feed.viewers.size },
        `camera gone: not announced for CAMERA_GONE_MS (${this.o.cameraGoneMs} ms); ending its streams`,
      );
      for (const v of [...feed.viewers]) {
        v.cameraGone();
        this.hub.unwatch(v);
      }
    }
  }
}
