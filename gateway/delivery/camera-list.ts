/**
 * The cameras this gateway knows: those whose capture has announced itself on the bus within
 * CAMERA_GONE_MS. The list is read from Redis on demand, at most every 250 ms, and shared by every request
 * that needs it meanwhile. A capture that stops announcing (gone for good, not just restarting) drops out:
 * its URLs answer 404 and the hub ends the streams still open on it.
 */
import type { CameraInfo, FrameBus } from '../../bus/bus.js';
import type { Logger } from '../../lib/log.js';

const MIN_REFRESH_MS = 250;
/** For a camera not known yet (just announced, say), Redis is asked again after this much at least. */
const MIN_FORCED_REFRESH_MS = 50;
/**
 * A camera id found in no listing is answered "unknown" without asking Redis again for this long: a flood
 * of requests for one made-up camera costs one listing a second, not twenty. (Made-up ids that differ each
 * time still cost at most one listing per MIN_FORCED_REFRESH_MS, and the per-address request rate bounds them.)
 */
const UNKNOWN_FOR_MS = 1000;
/** Ids remembered as unknown at most; past it the memory starts again (an attacker's ids are not worth more). */
const MAX_UNKNOWN = 10_000;

export interface CameraListOptions {
  bus: FrameBus;
  log: Logger;
  /** A camera not announced for this long is gone. */
  goneMs: number;
}

export class CameraList {
  private known = new Map<string, CameraInfo>();
  private listing: Promise<void> | null = null;
  private listedAt = 0;
  /** The last listing failed (Redis did not answer in time): an unknown camera may be only unlisted. */
  private failed = false;
  /** Camera ids a listing did not have, and when (ms since the epoch). */
  private readonly unknown = new Map<string, number>();

  constructor(private readonly o: CameraListOptions) {}

  /** Known cameras, refreshed from Redis if the copy here is older than 250 ms. */
  async all(): Promise<CameraInfo[]> {
    await this.refresh();
    return [...this.known.values()];
  }

  async has(camera: string): Promise<boolean> {
    if (this.known.has(camera)) return true;
    const missedAt = this.unknown.get(camera);
    if (missedAt !== undefined && Date.now() - missedAt < UNKNOWN_FOR_MS) return false;
    // A camera announced a moment after the last listing must not get a 404 for up to 250 ms.
    await this.refresh(MIN_FORCED_REFRESH_MS);
    if (this.known.has(camera)) return true;
    if (!this.failed) this.rememberUnknown(camera);
    return false;
  }

  private rememberUnknown(camera: string): void {
    if (this.unknown.size >= MAX_UNKNOWN) this.unknown.clear();
    this.unknown.delete(camera); // re-inserted last: the Map's order stays oldest first
    this.unknown.set(camera, Date.now());
  }

  /** Without waiting for Redis: what the last listing said (undefined if not listed then). */
  lastKnown(camera: string): CameraInfo | undefined {
    return this.known.get(camera);
  }

  /** Whether the last attempt to read the list from Redis failed. */
  get lastListingFailed(): boolean {
    return this.failed;
  }

  /** When the list was last read from Redis (ms since the epoch), 0 before. */
  get listedAtMs(): number {
    return this.listedAt;
  }

  refresh(minAgeMs = MIN_REFRESH_MS): Promise<void> {
    if (this.listing) return this.listing;
    if (Date.now() - this.listedAt < minAgeMs) return Promise.resolve();
    this.listing = this.o.bus
      .cameras()
      .then((list) => {
        const now = Date.now();
        const next = new Map(list.filter((c) => now - c.updatedAt <= this.o.goneMs).map((c) => [c.camera, c]));
        // A camera missing from this listing but announced within CAMERA_GONE_MS stays known: right after
        // a Redis restart the list is empty until the captures announce themselves again (within 1 s).
        for (const [id, info] of this.known) if (!next.has(id) && now - info.updatedAt <= this.o.goneMs) next.set(id, info);
        this.known = next;
        for (const id of next.keys()) this.unknown.delete(id);
        this.listedAt = now;
        this.failed = false;
      })
      .catch((err: Error) => {
        this.failed = true;
        this.o.log.warn({ err: err.message }, 'cannot list cameras');
      })
      .finally(() => {
        this.listing = null;
      });
    return this.listing;
  }
}
