/**
 * Frames that come late. A Redis replica that stalled or lost its master link for a moment replays what it
 * missed as soon as it is back (its replication backlog), and its subscribers then get a burst of frames as
 * old as the gap. Latest frame wins: such a frame is dropped and counted, never shown, and the viewer waits
 * the frame interval for a live one instead.
 *
 * "Late" is measured against the feed's own recent transit — arrival minus capture time, the quickest of the
 * last 10–20 s — so that a constant clock offset between the capture's host and this one cancels out. A
 * lasting change (a clock stepped back, a slower path) is accepted as the new normal after RESET_AFTER_MS of
 * nothing but late frames: a replay burst lasts a fraction of that, and a camera is never dark for longer.
 */
const WINDOW_MS = 10_000;
const RESET_AFTER_MS = 2_000;

export class LateFrames {
  /** Quickest transit in the previous and the current window. */
  private previous = Number.POSITIVE_INFINITY;
  private current = Number.POSITIVE_INFINITY;
  private windowStart = 0;
  private lateSince = 0;

  /** lateMs: 0 turns the check off. */
  constructor(private readonly lateMs: number) {}

  /** True when a frame captured at `timestamp` and arriving `now` is late; feeds the transit floor either way. */
  late(timestamp: number, now: number): boolean {
    if (this.lateMs === 0) return false;
    const transit = now - timestamp;
    if (now - this.windowStart > WINDOW_MS) {
      this.previous = this.current;
      this.current = Number.POSITIVE_INFINITY;
      this.windowStart = now;
    }
    const floor = Math.min(this.previous, this.current);
    this.current = Math.min(this.current, transit);
    if (transit - floor <= this.lateMs) {
      this.lateSince = 0;
      return false;
    }
    if (this.lateSince === 0) this.lateSince = now;
    if (now - this.lateSince < RESET_AFTER_MS) return true;
    // Late for this long is no burst: take this transit as the new floor.
    this.previous = transit;
    this.current = transit;
    this.lateSince = 0;
    return false;
  }
}
