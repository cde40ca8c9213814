/**
 * Is this gateway's link full? The event loop can be idle while the host's NIC is: the sockets then back
 * up instead (delivery/backlog.ts counts the connections that do, every capacity sample). The rule:
 *   - the share of connections backing up is smoothed like the load (0.4 of each sample);
 *   - full from AUTO_MAX_BACKED_UP, and only when at least MIN_BACKED_UP connections back up: one slow
 *     phone, or three, is a slow client, served by latest frame wins, not a full host;
 *   - no longer full once the share is HYSTERESIS below AUTO_MAX_BACKED_UP (or fewer than half of
 *     MIN_BACKED_UP back up), so that readiness does not flap with each sample.
 * Many clients each behind their own slow link look the same as one full link from here; the minimum and
 * the share (by default half of all connections) keep that to a host that most of its viewers cannot keep up with.
 */
import type { Backlog } from '../delivery/backlog.js';

/** Fewer connections backing up than this is never a full link, whatever their share. */
export const MIN_BACKED_UP = 4;
/** How far below the threshold the smoothed share must fall for the link to count as free again. */
export const HYSTERESIS = 0.2;
const SMOOTHING = 0.4;

export class LinkSaturation {
  /** Smoothed share (0–1) of connections backing up. */
  share = 0;
  /** Smoothed number of connections backing up. */
  backedUp = 0;
  /** Connections, and those backing up, in the last sample. */
  connections = 0;
  backedUpNow = 0;
  private full = false;

  /** maxShare: AUTO_MAX_BACKED_UP. */
  constructor(private readonly maxShare: number) {}

  sample(b: Backlog): void {
    const raw = b.connections === 0 ? 0 : b.backedUp / b.connections;
    this.share += SMOOTHING * (raw - this.share);
    this.backedUp += SMOOTHING * (b.backedUp - this.backedUp);
    this.connections = b.connections;
    this.backedUpNow = b.backedUp;
    this.full = this.full
      ? this.share >= this.maxShare - HYSTERESIS && this.backedUp >= MIN_BACKED_UP / 2
      : this.share >= this.maxShare && b.backedUp >= MIN_BACKED_UP;
  }

  get saturated(): boolean {
    return this.full;
  }
}
