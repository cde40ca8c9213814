/**
 * Once a second, adapting viewers move to the picture their link can carry: each viewer's own measure
 * (viewer.nextRendition, decided by adapt.ts from what its link took) against the renditions its camera
 * announces. The hub runs it with its other once-a-second duties; nothing here runs per frame.
 */
import type { CameraInfo, Rendition } from '../../bus/bus.js';
import type { Logger } from '../../lib/log.js';
import type { Feed } from '../delivery/fanout.js';
import type { Viewer } from '../delivery/viewer.js';

/** What adaptation needs of the hub. */
export interface AdaptedHub {
  feeds(): Iterable<Feed>;
  lastKnown(camera: string): CameraInfo | undefined;
  move(viewer: Viewer, rendition: Rendition): Promise<void>;
}

export class Adapter {
  constructor(
    private readonly o: { log: Logger; renditionWidths: readonly number[] },
    private readonly hub: AdaptedHub,
  ) {}

  sweep(): void {
    const now = performance.now();
    for (const feed of this.hub.feeds()) {
      const info = this.hub.lastKnown(feed.camera);
      if (!info) continue;
      for (const v of feed.viewers) {
        const next = v.nextRendition(now, info, this.o.renditionWidths);
        if (next !== undefined && next !== v.rendition) {
          this.o.log.debug({ camera: v.camera, from: v.rendition, to: next }, 'adapting viewer');
          void this.hub.move(v, next);
        }
      }
    }
  }
}
