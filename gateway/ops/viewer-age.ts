/**
 * How old the pictures on viewers' screens are, for /metrics. The gateway's other latency figures stop at
 * its own socket; these end at the viewer, as near as the gateway can know it: a /ws viewer with
 * acknowledgements says when it drew a frame, so `now − capture time` at the acknowledgement bounds the
 * age on screen from above (plus the acknowledgement's one network leg back); for an MJPEG viewer the
 * nearest point is the kernel taking the part's last byte (the network's delivery time comes on top).
 * A /ws viewer without acknowledgements has no such point: camfan_delivery_latency_seconds covers it.
 * Labels are the camera alone, which the camera list bounds (a viewer can only watch a listed camera).
 */
import client from 'prom-client';
import type { CameraHub } from '../delivery/hub.js';
import type { DeliveryObserver, ShownBy } from '../delivery/viewer.js';
import { LeanHistogram } from './lean-histogram.js';

const AGE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30];

/** Every viewer's delivery observer: counts delivered frames (capacity prices them), their latency and age. */
export class DeliveryTally implements DeliveryObserver {
  count = 0;
  histogram: LeanHistogram | null = null;
  ackAge: LeanHistogram | null = null;
  mjpegAge: LeanHistogram | null = null;

  delivered(captureTimestamp: number): void {
    this.count++;
    this.histogram?.observe((Date.now() - captureTimestamp) / 1000);
  }

  shown(camera: string, captureTimestamp: number, by: ShownBy): void {
    const h = by === 'ack' ? this.ackAge : by === 'mjpeg' ? this.mjpegAge : null;
    h?.observe((Date.now() - captureTimestamp) / 1000, camera);
  }
}

/** Registers the age-at-the-viewer histograms (fed by the tally) and the stale-viewer gauge. */
export function registerViewerAge(registry: client.Registry, hub: CameraHub, tally: DeliveryTally, staleViewerMs: number): void {
  tally.ackAge = new LeanHistogram(
    'camfan_viewer_ack_age_seconds',
    "Capture timestamp to a /ws viewer's acknowledgement of the frame (it has drawn it), per acknowledged frame: the age on its screen, at most, plus one network leg",
    AGE_BUCKETS,
    'camera',
  ).register(registry);
  tally.mjpegAge = new LeanHistogram(
    'camfan_mjpeg_sent_age_seconds',
    "Capture timestamp to the kernel taking the last byte of an MJPEG viewer's part, per part: the age when it left this host (the network's delivery time comes on top)",
    AGE_BUCKETS,
    'camera',
  ).register(registry);
  new client.Gauge({
    name: 'camfan_viewers_stale',
    help: `Viewers whose newest frame (acknowledged with acks, else handed to the socket) was captured more than STALE_VIEWER_MS (${staleViewerMs} ms) ago, or who have none after as long connected; a camera without live frames makes all its viewers stale`,
    labelNames: ['camera'],
    registers: [registry],
    collect() {
      this.reset();
      for (const camera of hub.totals().keys()) this.set({ camera }, 0);
      const now = Date.now();
      for (const v of hub.allViewers()) if (now - (v.shownCapture || v.connectedAt) > staleViewerMs) this.inc({ camera: v.camera });
    },
  });
}
