/**
 * One viewer of one camera, whatever carries its frames (an MJPEG response: mjpeg-viewer.ts; a camera
 * subscription on a WebSocket: ws-viewer.ts). Latest frame wins, written once here: a viewer has at most
 * one frame in flight; while its transport is busy the newest frame waits as `pending`, replacing any
 * older one (counted as dropped); nothing queues. The ?fps cap is applied here too.
 */
import type { CameraInfo, Rendition } from '../../bus/bus.js';
import { Pacer } from '../../lib/pacer.js';
import type { FramePacket } from './packet.js';

/**
 * How a viewer is known to have a camera frame: 'ack', a /ws client acknowledged it (drawn); 'mjpeg', the
 * last byte of its part was taken by the kernel; 'ws', a /ws message without acknowledgements was handed to
 * uWS (which may still hold it).
 */
export type ShownBy = 'ack' | 'mjpeg' | 'ws';

/** Per-delivery bookkeeping shared by every viewer of a process (metrics and capacity read it). */
export interface DeliveryObserver {
  /** A whole frame has been handed to a viewer's socket; ts is its capture time (ms since the epoch). */
  delivered(captureTimestamp: number): void;
  /** A viewer is known to have a camera frame (see ShownBy); ts is its capture time. */
  shown?(camera: string, captureTimestamp: number, by: ShownBy): void;
}

export interface ViewerOptions {
  /** ?fps=N or {"fps":N}: at most N frames a second, spread evenly. */
  maxFps?: number | null;
  observer?: DeliveryObserver | null;
  /** Client address, for /api/stats. */
  remote?: string;
  /** Which picture of the camera (null: its own size). */
  rendition?: Rendition;
}

export abstract class Viewer {
  delivered = 0;
  /** Frames the viewer should get (within its fps cap), whether or not its transport could take them. */
  offered = 0;
  /** Frames replaced while waiting behind a busy transport. */
  dropped = 0;
  /** Frames skipped to honour the viewer's fps cap. */
  capped = 0;
  bytes = 0;
  /**
   * performance.now() when a frame last had to wait because the socket had not taken the one before it
   * (0: never). The link measure (delivery/backlog.ts) reads it; set only when that happens, not per frame.
   */
  backedUpAt = 0;
  readonly connectedAt = Date.now();
  /**
   * Capture time (ms since the epoch) of the newest camera frame this viewer is known to have: acknowledged
   * when it acknowledges, else handed to its socket; 0 before the first. The stale-viewer gauge reads it.
   */
  shownCapture = 0;
  readonly remote: string;
  readonly maxFps: number | null;
  /** Which picture of the camera this viewer watches; the hub moves an adapting viewer between them. */
  rendition: Rendition;
  /** Set by end(): no new frame starts; the one in flight finishes. */
  protected ending = false;
  private pending: FramePacket | null = null;
  /** FramePacket.order of the last camera frame taken: frames only move forward. */
  private lastOrder = 0;
  private readonly cap: Pacer | null;
  private readonly observer: DeliveryObserver | null;

  constructor(
    readonly camera: string,
    options: ViewerOptions = {},
  ) {
    this.maxFps = options.maxFps ?? null;
    this.cap = this.maxFps ? new Pacer(this.maxFps) : null;
    this.observer = options.observer ?? null;
    this.remote = options.remote ?? '';
    this.rendition = options.rendition ?? null;
  }

  abstract get closed(): boolean;
  /** A frame is in flight: the transport has not taken all of it yet. */
  protected abstract busy(): boolean;
  /** Starts sending a frame; the transport calls sent() once the whole frame has been taken. */
  protected abstract transmit(packet: FramePacket): void;
  /** How long the transport has taken nothing of the frame in flight (0 when nothing waits). */
  abstract blockedFor(now: number): number;
  /** Ends at a frame boundary (shutdown, camera gone). */
  abstract end(): void;
  /** Server-side close (stall, shutdown deadline). */
  abstract close(): void;
  /** The camera's capture is gone for good: the viewer is told and stops watching it. */
  abstract cameraGone(): void;
  abstract snapshot(now: number): Record<string, unknown>;

  /**
   * The socket still holds bytes of the frame in flight (not, as busy() may also mean, an acknowledgement
   * awaited from a client that has them): the bytes have not left this host yet.
   */
  protected socketBusy(): boolean {
    return this.busy();
  }

  /** What the link measure counts as one: the connection this viewer's frames go out on. */
  get connection(): object {
    return this;
  }

  /** The transport has been blocked a while: try the frame in flight again (sends only what the socket takes). */
  retry(): void {}

  /**
   * Runs `work` inside this viewer's transport cork, so that the writes `work` makes to other viewers need no
   * cork of their own (fanout.ts hands a frame to a whole slice of viewers this way); false, and `work` not
   * run, when the transport has none.
   */
  shareCork(_work: () => void): boolean {
    return false;
  }

  /** Adapting viewers: the picture this one should get now (undefined: keep it, or too early to tell). */
  nextRendition(_now: number, _camera: CameraInfo, _widths: readonly number[]): Rendition | undefined {
    return undefined;
  }

  /** Latest frame wins: send now if the transport is free, else keep only the newest as pending. */
  offer(packet: FramePacket): void {
    if (this.ending || this.closed) return;
    // Camera frames only move forward (a latest frame read from Redis may come after a live one); a
    // placeholder never blocks them. The order is this gateway's, not the capture's timestamp, which
    // whoever writes to Redis controls.
    if (!packet.placeholder && packet.order <= this.lastOrder) return;
    if (this.cap !== null && !this.cap.take()) {
      this.capped++;
      return;
    }
    if (!packet.placeholder) this.lastOrder = packet.order;
    this.offered++;
    if (this.busy()) {
      if (this.pending !== null) this.dropped++;
      this.pending = packet;
      // The previous frame has not left within a frame interval: this viewer's path cannot carry the rate.
      if (this.socketBusy()) this.backedUpAt = performance.now();
      return;
    }
    this.transmit(packet);
  }

  /** How a frame this viewer's transport took counts as shown; null: only once acknowledged (shown()). */
  protected abstract readonly sentShows: ShownBy | null;

  /** The transport took a whole frame. */
  protected sent(packet: FramePacket, bytes: number): void {
    this.delivered++;
    this.bytes += bytes;
    this.observer?.delivered(packet.frame.timestamp);
    if (this.sentShows !== null && !packet.placeholder) this.shown(packet.frame.timestamp, this.sentShows);
  }

  /** The viewer has the camera frame captured at captureTimestamp (a placeholder never counts). */
  protected shown(captureTimestamp: number, by: ShownBy): void {
    if (captureTimestamp > this.shownCapture) this.shownCapture = captureTimestamp;
    this.observer?.shown?.(this.camera, captureTimestamp, by);
  }

  /** The transport can take more: the waiting frame, if any, goes now. */
  protected sendPending(): void {
    const next = this.pending;
    if (next === null || this.ending || this.closed) return;
    this.pending = null;
    this.transmit(next);
  }

  protected forgetPending(): void {
    this.pending = null;
  }

  /** The figures every transport reports in /api/stats. */
  protected figures(): Record<string, unknown> {
    const seconds = Math.max(0.001, (Date.now() - this.connectedAt) / 1000);
    return {
      camera: this.camera,
      width: this.rendition,
      remote: this.remote,
      maxFps: this.maxFps,
      connectedAt: this.connectedAt,
      delivered: this.delivered,
      fps: Math.round((this.delivered / seconds) * 10) / 10,
      dropped: this.dropped,
      capped: this.capped,
    };
  }
}
