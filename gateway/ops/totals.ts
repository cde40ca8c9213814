/**
 * Per-camera totals since this gateway started, for /metrics counters (which must never go down): what
 * viewers that already left were sent and what released feeds received, plus the live figures of the
 * viewers and feeds there are now.
 */
import type { Feed } from '../delivery/fanout.js';
import type { Viewer } from '../delivery/viewer.js';
import { getOrCreate } from '../../lib/maps.js';

export interface CameraTotals {
  delivered: number;
  dropped: number;
  capped: number;
  bytes: number;
  framesReceived: number;
  superseded: number;
}

export class Totals {
  private readonly sinceStart = new Map<string, CameraTotals>();

  private of(camera: string): CameraTotals {
    return getOrCreate(this.sinceStart, camera, () => ({ delivered: 0, dropped: 0, capped: 0, bytes: 0, framesReceived: 0, superseded: 0 }));
  }

  viewerLeft(v: Viewer): void {
    addViewer(this.of(v.camera), v);
  }

  feedReleased(feed: Feed): void {
    const t = this.of(feed.camera);
    t.framesReceived += feed.framesReceived;
    t.superseded += feed.superseded;
  }

  /** Totals since start (for counters) and viewers now (for gauges), per camera. */
  snapshot(feeds: Iterable<Feed>): Map<string, CameraTotals & { viewers: number }> {
    const out = new Map<string, CameraTotals & { viewers: number }>();
    for (const [camera, t] of this.sinceStart) out.set(camera, { ...t, viewers: 0 });
    for (const feed of feeds) {
      const t = getOrCreate(out, feed.camera, () => ({ ...this.of(feed.camera), viewers: 0 }));
      for (const v of feed.viewers) addViewer(t, v);
      t.framesReceived += feed.framesReceived;
      t.superseded += feed.superseded;
      t.viewers = feed.viewers.size;
    }
    return out;
  }
}

function addViewer(t: CameraTotals, v: Viewer): void {
  t.delivered += v.delivered;
  t.dropped += v.dropped;
  t.capped += v.capped;
  t.bytes += v.bytes;
}
