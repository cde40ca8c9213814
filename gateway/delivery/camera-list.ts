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

  constructor(private readonly o: CameraListOptions) {}

  /** Known cameras, refreshed from Redis if the copy here is older than 250 ms. */
  async all(): Promise<CameraInfo[]> {
    await this.refresh();
    return [...this.known.values()];
  }

  async has(camera: string): Promise<boolean> {
    if (this.known.has(camera)) return true;
    // A camera announced a moment after the last listing must not get a 404 for up to 250 ms.
    await this.refresh(MIN_FORCED_REFRESH_MS);
    return this.known.has(camera);
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
