/**
 * How busy this gateway is, and whether one more viewer would slow everyone below the cameras' rate.
 *
 * The measure is the event loop's utilisation (Node's performance.eventLoopUtilization: the share of wall
 * time the loop spent working rather than waiting for I/O), smoothed over a few samples. Every part of
 * delivery runs on that loop — reading Redis, fan-out rounds, socket drains — so when it is near 1 the
 * fan-out of a frame takes longer than the frame interval and frames are superseded. With MAX_VIEWERS=auto
 * a new viewer is admitted only while load + (its camera's fps × the measured cost of one delivered
 * frame) stays under AUTO_MAX_LOAD, and /readyz says "saturated" otherwise, so that a load balancer sends
 * new viewers to another gateway (Envoy's overload manager does the same with its resource monitors).
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
  /** Share (0–1) of connections backing up at once past which the link is full (AUTO_MAX_BACKED_UP). */
  maxBackedUp: number;
  /** The connections backing up now (read each sample). */
  backlog: () => Backlog;
  sampleMs?: number;
}

/** Below this many deliveries in a sample, the cost of one is not estimated from it (fixed costs dominate). */
const MIN_DELIVERIES_TO_PRICE = 50;

export class Capacity {
  /** Smoothed event-loop utilisation, 0–1. */
  load = 0;
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
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: CapacityOptions) {
    this.link = new LinkSaturation(o.maxBackedUp);
    this.timer = setInterval(() => this.sample(), o.sampleMs ?? 500);
    this.timer.unref();
  }

  private sample(): void {
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    // The smoothed load shows a new viewer's cost bit by bit (0.4 of it per sample): keep the rest projected.
    this.admittedFps *= 0.6;
    const deliveries = this.o.deliveries();
    const delivered = deliveries - this.lastDeliveries;
    this.lastDeliveries = deliveries;
    this.load = this.load === 0 ? elu.utilization : 0.6 * this.load + 0.4 * elu.utilization;
    if (delivered >= MIN_DELIVERIES_TO_PRICE) {
      const cost = elu.active / delivered;
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

  /** MAX_VIEWERS=auto: may a viewer of a camera running at `fps` join? (A refusal is counted where it is sent.) */
  admit(fps: number): boolean {
    if (!this.o.auto) return true;
    this.lastFps = fps;
    if (this.hasRoomFor(fps)) {
      this.admittedFps += fps;
      return true;
    }
    return false;
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
