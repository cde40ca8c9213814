/**
 * Is anyone watching this camera, anywhere in the deployment? Counts the gateways subscribed to its
 * channel once a second, and hears a gateway's wake-up at once, so an idle capture is back at full rate
 * within a frame interval of a viewer arriving.
 */
import type { FrameBus, Unsubscribe } from '../bus/bus.js';
import type { Logger } from '../lib/log.js';

export class Demand {
  watching = true;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: Unsubscribe | null = null;

  constructor(
    private readonly bus: FrameBus,
    private readonly camera: string,
    private readonly log: Logger,
    private readonly onChange: (watching: boolean) => void,
    private readonly pollMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.onFramesRequested(this.camera, () => this.set(true, 'a gateway asked for frames'));
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
    await this.poll();
  }

  private async poll(): Promise<void> {
    try {
      const n = await this.bus.watchers(this.camera);
      this.set(n > 0, n > 0 ? `${n} gateway(s) subscribed` : 'no gateway subscribed');
    } catch {
      // Redis down: keep the current rate; the publisher reports the outage.
    }
  }

  private set(watching: boolean, reason: string): void {
    if (watching === this.watching) return;
    this.watching = watching;
    this.log.info({ watching, reason }, watching ? 'viewers present: full frame rate' : 'no viewers: idle frame rate');
    this.onChange(watching);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => undefined);
  }
}
