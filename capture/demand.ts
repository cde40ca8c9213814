/**
 * Is anyone watching this camera, anywhere in the deployment, and which of its renditions? Counts the
 * gateways subscribed to the camera's channel and to each rendition's channel once a second, and hears a
 * gateway's wake-up at once: an idle capture is back at full rate within a frame interval of a viewer
 * arriving, and a rendition starts being encoded as soon as someone asks for it. A rendition woken up
 * (a snapshot of a rendition nobody watches) is encoded for at least wakeHoldMs even with no subscriber,
 * so the snapshot gets a frame; one nobody subscribes to any more stops at the next poll after that.
 */
import type { FrameBus, Rendition, Unsubscribe } from '../bus/bus.js';
import type { Logger } from '../lib/log.js';

export interface DemandState {
  /** Someone watches the camera's own picture or one of its renditions: capture at the full rate. */
  watching: boolean;
  /** Rendition widths to encode now, ascending. */
  renditions: number[];
}

export interface DemandOptions {
  bus: FrameBus;
  camera: string;
  log: Logger;
  /** RENDITION_WIDTHS: the only widths this capture encodes. */
  widths: readonly number[];
  onChange: (state: DemandState) => void;
  pollMs?: number;
  /** How long a wake-up for a rendition keeps it encoded without a subscriber. */
  wakeHoldMs?: number;
}

/** Long enough for a snapshot (the gateway waits 1.5 s) and a page that subscribes right after it. */
export const WAKE_HOLD_MS = 5000;

export class Demand {
  state: DemandState = { watching: true, renditions: [] };
  private own = true;
  private readonly subscribed = new Map<number, number>();
  private readonly wokenUntil = new Map<number, number>();
  private readonly unknownWidths = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: Unsubscribe | null = null;

  constructor(private readonly o: DemandOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.o.bus.onFramesRequested(this.o.camera, (r) => this.onWake(r));
    this.timer = setInterval(() => void this.poll(), this.o.pollMs ?? 1000);
    this.timer.unref();
    await this.poll();
  }

  private onWake(rendition: Rendition): void {
    if (rendition === null) {
      this.own = true;
      this.update('a gateway asked for frames');
      return;
    }
    if (!this.o.widths.includes(rendition)) {
      // Gateways and captures configured with different RENDITION_WIDTHS: said once per width.
      if (!this.unknownWidths.has(rendition) && this.unknownWidths.size < 64) {
        this.unknownWidths.add(rendition);
        this.o.log.warn(
          { width: rendition, renditionWidths: this.o.widths },
          'a gateway asked for a rendition width this capture does not encode (RENDITION_WIDTHS differ?)',
        );
      }
      return;
    }
    this.wokenUntil.set(rendition, Date.now() + (this.o.wakeHoldMs ?? WAKE_HOLD_MS));
    this.update(`a gateway asked for the ${rendition} rendition`);
  }

  private async poll(): Promise<void> {
    const { bus, camera, widths } = this.o;
    let counts: number[];
    try {
      counts = await Promise.all([bus.watchers(camera), ...widths.map((w) => bus.watchers(camera, w))]);
    } catch {
      // Redis down: keep the current state; the publisher reports the outage.
      return;
    }
    this.own = counts[0]! > 0;
    for (const [i, w] of widths.entries()) this.subscribed.set(w, counts[i + 1]!);
    this.update(this.own ? `${counts[0]} gateway(s) subscribed` : 'no gateway subscribed');
  }

  private update(reason: string): void {
    const now = Date.now();
    const renditions = this.o.widths.filter((w) => (this.subscribed.get(w) ?? 0) > 0 || (this.wokenUntil.get(w) ?? 0) > now);
    const next: DemandState = { watching: this.own || renditions.length > 0, renditions };
    const prev = this.state;
    if (next.watching === prev.watching && next.renditions.join() === prev.renditions.join()) return;
    this.state = next;
    if (next.watching !== prev.watching) {
      this.o.log.info({ watching: next.watching, reason }, next.watching ? 'viewers present: full frame rate' : 'no viewers: idle frame rate');
    }
    if (next.renditions.join() !== prev.renditions.join()) {
      this.o.log.info(
        { renditions: next.renditions, was: prev.renditions },
        next.renditions.length ? 'renditions watched: encoding them' : 'no rendition watched: encoding none',
      );
    }
    this.o.onChange(next);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => undefined);
  }
}
