/**
 * How busy this gateway is, and whether one more viewer would slow everyone below the cameras' rate.
 *
 * The measure is the share of wall time this process spends delivering frames (delivery/delivery-time.ts:
 * fan-out rounds, socket drains, acknowledged sends), smoothed over a few samples. When it is near 1 the
 * fan-out of a frame takes longer than the frame interval and frames are superseded. It is not the event
 * loop's whole busy time (Node's eventLoopUtilization, kept as `loop` for operators): that also holds the
 * work of answering requests, and a flood of cheap refused requests made a gateway at 3–5 % real load refuse
 * new viewers; the per-address request rate bounds that work instead (access/request-rate.ts). With
 * MAX_VIEWERS=auto a viewer is admitted only while load + (fps of the viewers admitted since the load last
 * showed them + its own) × the measured cost of one delivered frame stays under AUTO_MAX_LOAD, and /readyz
 * says "saturated" otherwise, so that a load balancer sends new viewers to another gateway (Envoy's overload
 * manager does the same with its resource monitors). A viewer that leaves gives back what is still
 * projected for it, so subscribe/unsubscribe churn projects nothing.
 *
 * The event loop is only half of it: a host whose link is full has an idle loop while its sockets back
 * up. Each sample also counts the connections that back up (delivery/backlog.ts), and link.ts says when
 * that is the host's link rather than a few slow clients; saturated by either is saturated, and
 * `saturatedBy` says which ("load" first when both).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Backlog } from '../delivery/backlog.js';
import { LinkSaturation } from './link.js';

export interface CapacityOptions {
  /** MAX_VIEWERS=auto: refuse new viewers past maxLoad. */
  auto: boolean;
  /** Load (0–1) at which the gateway counts as saturated. */
  maxLoad: number;
  /** Frames delivered since start (read each sample to price one delivery). */
  deliveries: () => number;
  /** Milliseconds spent delivering since start (delivery/delivery-time.ts). */
  deliveryBusyMs: () => number;
  /** Share (0–1) of connections backing up at once past which the link is full (AUTO_MAX_BACKED_UP). */
  maxBackedUp: number;
  /** The connections backing up now (read each sample). */
  backlog: () => Backlog;
  sampleMs?: number;
}

/** What the smoothed load keeps of its last value each sample; a new viewer's cost shows at 1 − this a sample. */
const KEEP = 0.6;

/** A viewer's share of the projected load, given back when it leaves (Capacity.giveBack). */
export interface Projection {
  fps: number;
  /** The sample it was admitted in. */
  sample: number;
}

/** Below this many deliveries in a sample, the cost of one is not estimated from it (fixed costs dominate). */
const MIN_DELIVERIES_TO_PRICE = 50;

export class Capacity {
  /** Smoothed share of time spent delivering, 0–1 (what AUTO_MAX_LOAD compares). */
  load = 0;
  /** Smoothed event-loop utilisation, 0–1: delivery and everything else (requests, timers, logging). */
  loop = 0;
  /** Smoothed busy time per delivered frame (ms); 0 until measured. */
  costPerDeliveryMs = 0;
  private saturatedNow = false;
  private loadSaturated = false;
  readonly link: LinkSaturation;
  /** Frame rate of the last viewer that asked to join (what /readyz checks there is room for). */
  private lastFps = 30;
  /** Frames a second admitted since the last sample, which the measured load cannot show yet. */
  private admittedFps = 0;
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastDeliveries = 0;
  private lastBusyMs = 0;
  private lastSampleAt = performance.now();
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: CapacityOptions) {
    this.link = new LinkSaturation(o.maxBackedUp);
    this.timer = setInterval(() => this.sample(), o.sampleMs ?? 500);
    this.timer.unref();
  }

  private sample(): void {
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    const now = performance.now();
    const busyMs = this.o.deliveryBusyMs();
    const busyDelta = busyMs - this.lastBusyMs;
    const share = Math.min(1, busyDelta / Math.max(1, now - this.lastSampleAt));
    this.lastBusyMs = busyMs;
    this.lastSampleAt = now;
    this.samples++;
    // The smoothed load shows a new viewer's cost bit by bit (1 − KEEP of it per sample): keep the rest projected.
    this.admittedFps *= KEEP;
    const deliveries = this.o.deliveries();
    const delivered = deliveries - this.lastDeliveries;
    this.lastDeliveries = deliveries;
    this.load = this.load === 0 ? share : KEEP * this.load + (1 - KEEP) * share;
    this.loop = this.loop === 0 ? elu.utilization : KEEP * this.loop + (1 - KEEP) * elu.utilization;
    if (delivered >= MIN_DELIVERIES_TO_PRICE) {
      const cost = busyDelta / delivered;
      this.costPerDeliveryMs = this.costPerDeliveryMs === 0 ? cost : 0.7 * this.costPerDeliveryMs + 0.3 * cost;
    }
    // Hysteresis: saturated from maxLoad, back to accepting 5 points below, so readiness does not flap.
    this.loadSaturated = this.loadSaturated ? this.load >= this.o.maxLoad - 0.05 : this.load >= this.o.maxLoad;
    this.link.sample(this.o.backlog());
    this.saturatedNow = this.loadSaturated || this.link.saturated;
  }

  /** True while the gateway is at its limit (whether or not MAX_VIEWERS=auto acts on it). */
  get saturated(): boolean {
    return this.saturatedNow;
  }

  /**
   * What holds the gateway at its limit: its event loop ("load": saturated, or, MAX_VIEWERS=auto, no room
   * for the load of one more viewer), its link ("link"), or nothing (null).
   */
  get saturatedBy(): 'load' | 'link' | null {
    if (this.loadSaturated) return 'load';
    if (this.link.saturated) return 'link';
    return this.full ? 'load' : null;
  }

  /**
   * MAX_VIEWERS=auto: may a viewer of a camera running at `fps` join? Its projection when admitted (give it
   * back with giveBack when the viewer goes), null when refused (counted where the refusal is sent).
   */
  admit(fps: number): Projection | null {
    if (!this.o.auto) return { fps: 0, sample: this.samples };
    this.lastFps = fps;
    if (!this.hasRoomFor(fps)) return null;
    this.admittedFps += fps;
    return { fps, sample: this.samples };
  }

  /** A viewer admitted with `p` has gone: what is still projected for it leaves the projection. */
  giveBack(p: Projection): void {
    this.admittedFps = Math.max(0, this.admittedFps - p.fps * KEEP ** (this.samples - p.sample));
  }

  /** MAX_VIEWERS=auto and no room for another viewer like the last one that asked: /readyz says not ready. */
  get full(): boolean {
    return this.o.auto && !this.hasRoomFor(this.lastFps);
  }

  private hasRoomFor(fps: number): boolean {
    const projected = this.load + ((this.admittedFps + fps) * this.costPerDeliveryMs) / 1000;
    return !this.saturatedNow && projected < this.o.maxLoad;
  }

  describe(): Record<string, unknown> {
    return {
      load: round(this.load),
      loop: round(this.loop),
      saturated: this.saturatedNow,
      saturatedBy: this.saturatedBy,
      full: this.full,
      backedUp: round(this.link.share),
      backedUpConnections: this.link.backedUpNow,
      connections: this.link.connections,
      costPerDeliveryUs: round(this.costPerDeliveryMs * 1000),
      maxLoad: this.o.maxLoad,
      maxBackedUp: this.o.maxBackedUp,
      auto: this.o.auto,
    };
  }

  close(): void {
    clearInterval(this.timer);
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
