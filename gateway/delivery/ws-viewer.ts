/**
 * A viewer of one camera on a /ws WebSocket (ws.ts). One socket carries any number of cameras; a camera's
 * frame is in flight while the socket has unsent data, so at most one frame per socket waits in uWS and
 * each camera keeps only its newest frame pending until the socket drains.
 *
 * With acknowledgements ({"subscribe":…,"ack":true}) a frame is also in flight until the client says it
 * has drawn it ({"ack":"cam0"}), with at most ACK_WINDOW frames unacknowledged. Frames then never pile up
 * in kernel buffers on a slow link: the link gets fewer frames, each fresh. The acknowledgements also
 * measure the link, for adaptation (adapt.ts).
 */
import type { CameraInfo, Rendition } from '../../bus/bus.js';
import type { Credentials } from '../access/access.js';
import type { Adaptation, LinkSample } from '../adaptation/adapt.js';
import { frameBytes, ladder } from '../adaptation/renditions.js';
import type { FramePacket } from './packet.js';
import type { WebSocket } from '../http/uws.js';
import type { CommandBudget } from '../http/ws-budget.js';
import { REFUSALS } from '../http/refusals.js';
import { errorMessage } from '../http/ws-protocol.js';
import { type ShownBy, Viewer, type ViewerOptions } from './viewer.js';
import type { Place } from '../access/admit.js';

/** Frames a subscription with acknowledgements may have unacknowledged: one drawn, one on the way. */
export const ACK_WINDOW = 2;
/**
 * The link measure: an acknowledgement this much later than the client's fastest says the frame queued on
 * the way; one later than ACK_LATE_MS, whatever the fastest (measured on a link already full, as when a
 * host's pages all reconnect at once), took longer than any round trip but a congested one.
 */
const ACK_QUEUED_MS = 250;
const ACK_LATE_MS = 1000;

/** What the gateway keeps per WebSocket (uWS user data). */
export interface SocketState {
  viewers: Map<string, WsViewer>;
  /** The socket's own viewer's place (MAX_VIEWERS, MAX_VIEWERS_PER_IP), released when it closes. */
  place: Place;
  open: boolean;
  remote: string;
  creds: Credentials;
  /** The page asked for beats on an idle socket (/ws?beat=1, lib/wire/liveness.mts). */
  beats: boolean;
  /** When this socket was last given a message (performance.now()): the heartbeat fills only silences. */
  sentAt: number;
  /** The commands it may still send (ws-budget.ts). */
  budget: CommandBudget;
}

export interface WsViewerOptions extends ViewerOptions {
  acks?: boolean;
  /** Adaptation (needs acks), with the largest picture the viewer asked for as its ceiling. */
  adaptation?: Adaptation | null;
  /** The widest picture this subscription may get (its requested width; null: the camera's own). */
  ceiling?: number | null;
  /** Its admission (the load projected for it), given back when it is unsubscribed, whatever the reason. */
  place?: Place | null;
}

export class WsViewer extends Viewer {
  readonly acks: boolean;
  readonly adaptation: Adaptation | null;
  readonly ceiling: number | null;
  protected readonly sentShows: ShownBy | null;
  private readonly place: Place | null;
  /**
   * Bytes, send times (performance.now()) and capture times (0: a placeholder) of the frames not
   * acknowledged yet, oldest first.
   */
  private readonly unacked: Array<{ bytes: number; at: number; capture: number }> = [];
  private unsubscribed = false;
  /** The socket's state, kept: uWS forbids touching a closed WebSocket, and the link measure groups by it. */
  private readonly state: SocketState;
  /** Fastest acknowledgement seen (ms from send): the client's own round trip and drawing time. */
  private fastestAckMs = Number.POSITIVE_INFINITY;
  private link = { frames: 0, realFrames: 0, bytes: 0, busyMs: 0, busySince: 0, offeredAtSample: 0, sampledAt: performance.now() };

  constructor(
    private readonly ws: WebSocket<SocketState>,
    camera: string,
    options: WsViewerOptions = {},
  ) {
    super(camera, options);
    this.acks = options.acks ?? false;
    // With acknowledgements a frame counts as shown once the client says it drew it (ack()).
    this.sentShows = this.acks ? null : 'ws';
    this.adaptation = this.acks ? (options.adaptation ?? null) : null;
    this.ceiling = options.ceiling ?? null;
    this.place = options.place ?? null;
    this.state = ws.getUserData();
  }

  /** Every camera on one socket is one connection: a wall of cameras on one slow phone counts once. */
  get connection(): object {
    return this.state;
  }

  protected socketBusy(): boolean {
    return this.ws.getBufferedAmount() > 0;
  }

  get closed(): boolean {
    return this.unsubscribed || !this.ws.getUserData().open;
  }

  protected busy(): boolean {
    return this.ws.getBufferedAmount() > 0 || (this.acks && this.unacked.length >= ACK_WINDOW);
  }

  protected transmit(packet: FramePacket): void {
    const msg = packet.message();
    // 1: sent, 0: queued in uWS (at most this one frame: we only send on an empty buffer), 2: dropped.
    if (this.ws.send(msg, true, false) === 2) {
      this.dropped++;
      this.backedUpAt = performance.now();
      return;
    }
    const now = performance.now();
    this.ws.getUserData().sentAt = now;
    if (!packet.placeholder) this.link.realFrames++;
    if (this.acks) {
      if (this.unacked.length === 0) this.link.busySince = now;
      this.unacked.push({ bytes: msg.length, at: now, capture: packet.placeholder ? 0 : packet.frame.timestamp });
    }
    this.sent(packet, msg.length);
  }

  /** The client drew a frame. False when nothing was waiting for an acknowledgement (a confused client). */
  ack(): boolean {
    const frame = this.unacked.shift();
    if (!frame) return false;
    const now = performance.now();
    // Acknowledgements wait on a round trip, which a distant but unhurried client has long for every frame:
    // only a wait well past that says frames queue on the way (a full link takes the bytes into the kernel,
    // where they wait without the socket ever refusing any).
    const ackMs = now - frame.at;
    this.fastestAckMs = Math.min(this.fastestAckMs, ackMs);
    if (ackMs > Math.min(this.fastestAckMs + ACK_QUEUED_MS, ACK_LATE_MS)) this.backedUpAt = now;
    this.link.frames++;
    this.link.bytes += frame.bytes;
    if (frame.capture !== 0) this.shown(frame.capture, 'ack');
    if (this.unacked.length === 0) this.link.busyMs += now - this.link.busySince;
    this.drain();
    return true;
  }

  nextRendition(now: number, camera: CameraInfo, widths: readonly number[]): Rendition | undefined {
    if (this.adaptation === null) return undefined;
    const steps = ladder(camera.width, widths, this.ceiling);
    return this.adaptation.decide(now, () => this.sampleLink(), { ladder: steps, current: this.rendition, bytesOf: (r) => frameBytes(camera, r) });
  }

  /** What the link carried since the last sample (adaptation). */
  private sampleLink(): LinkSample {
    const now = performance.now();
    const l = this.link;
    const busyMs = l.busyMs + (this.unacked.length > 0 ? now - l.busySince : 0);
    const sample = {
      offered: this.offered - l.offeredAtSample,
      frames: l.frames,
      realFrames: l.realFrames,
      bytes: l.bytes,
      busyMs,
      elapsedMs: now - l.sampledAt,
    };
    this.link = { frames: 0, realFrames: 0, bytes: 0, busyMs: 0, busySince: now, offeredAtSample: this.offered, sampledAt: now };
    return sample;
  }

  /** The socket drained (or a frame was acknowledged): this camera's pending frame goes if it may. */
  drain(): void {
    if (!this.closed && !this.busy()) this.sendPending();
  }

  /** A subscription with acknowledgements is blocked while its window is full. */
  blockedFor(now: number): number {
    return this.acks && this.unacked.length >= ACK_WINDOW ? now - this.unacked[0]!.at : 0;
  }

  /** The client unsubscribed: no more frames, the socket stays open. */
  unsubscribe(): void {
    this.unsubscribed = true;
    this.forgetPending();
    this.place?.release();
  }

  cameraGone(): void {
    const state = this.ws.getUserData();
    this.unsubscribe();
    state.viewers.delete(this.camera);
    if (state.open) this.ws.send(errorMessage(REFUSALS.cameraGone, this.camera), false);
  }

  /** Ends the whole socket (shutdown, or a subscription that stopped acknowledging). */
  end(): void {
    this.unsubscribe();
    const state = this.ws.getUserData();
    if (state.open) {
      state.open = false;
      this.ws.end(1001, 'server going away');
    }
  }

  close(): void {
    this.end();
  }

  snapshot(now: number): Record<string, unknown> {
    return {
      ...this.figures(),
      transport: 'websocket',
      acks: this.acks,
      adapt: this.adaptation !== null,
      unacked: this.unacked.length,
      blockedMs: Math.round(this.blockedFor(now)),
    };
  }
}
