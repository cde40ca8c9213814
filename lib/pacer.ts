/**
 * A drift-free frame clock: slot n is due at start + n * interval, whatever each frame cost. When we fall
 * more than a frame behind, missed slots are skipped (counted), never caught up in a burst. The rate can
 * change on the fly (an idle capture going back to full rate); a wait in progress then ends at once.
 */
export class Pacer {
  intervalMs: number;
  private next: number;
  private cutWait: (() => void) | null = null;
  skipped = 0;

  constructor(
    fps: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.intervalMs = 1000 / fps;
    this.next = now();
  }

  /** New rate, starting with a slot due now. */
  setFps(fps: number): void {
    const interval = 1000 / fps;
    if (interval === this.intervalMs) return;
    this.intervalMs = interval;
    this.next = this.now();
    this.cutWait?.();
  }

  /** For paced sources (file, test pattern): waits for the next slot. */
  async wait(signal?: { stopped: boolean }): Promise<void> {
    const delay = this.next - this.now();
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, delay);
        const self = this;
        function done(): void {
          clearTimeout(t);
          self.cutWait = null;
          resolve();
        }
        this.cutWait = done;
      });
    }
    if (signal?.stopped) return;
    this.advance();
  }

  /**
   * For live sources (camera, stream), read as fast as they deliver: is this frame due? A frame up to half
   * an interval early still counts, so a 30 fps camera at a 30 fps target keeps every frame despite jitter.
   */
  take(): boolean {
    if (this.now() < this.next - this.intervalMs / 2) return false;
    this.advance();
    return true;
  }

  private advance(): void {
    this.next += this.intervalMs;
    const now = this.now();
    if (this.next <= now) {
      const missed = Math.floor((now - this.next) / this.intervalMs) + 1;
      this.skipped += missed;
      this.next += missed * this.intervalMs;
    }
  }
}
