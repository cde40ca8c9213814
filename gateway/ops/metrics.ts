/**
 * GET /metrics in Prometheus text format (prom-client). Hot-path numbers are plain counters on the viewers
 * and the hub, read at scrape time; three histograms are observed as frames flow: the age of each frame
 * when it reaches this gateway, the time to hand a frame to all its viewers (a fan-out round), and the
 * capture-to-socket time of each delivered part.
 */
import client from 'prom-client';
import type { FrameBus } from '../../bus/bus.js';
import type { Capacity } from './capacity.js';
import { MIN_BACKED_UP } from './link.js';
import type { CameraHub } from '../delivery/hub.js';
import type { RefusalCounts } from '../http/refusals.js';
import { LeanHistogram } from './lean-histogram.js';
import { type DeliveryTally, registerViewerAge } from './viewer-age.js';

export interface GatewayMetrics {
  registry: client.Registry;
  contentType: string;
}

const EVENT_LOOP_SAMPLE_MS = 100;
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(
  hub: CameraHub,
  bus: FrameBus,
  refusals: RefusalCounts,
  capacity: Capacity,
  tally: DeliveryTally,
  staleViewerMs: number,
): GatewayMetrics {
  const registry = new client.Registry();
  // The event-loop delay is sampled every 100 ms, not prom-client's default 10 ms: a 10 ms timer wakes an
  // idle gateway 100 times a second (about 1 % of a core measured here) and still costs under load, while a
  // stall of the loop shows in the 100 ms samples as well.
  client.collectDefaultMetrics({ register: registry, prefix: 'camfan_gateway_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  // Observed per frame or per delivered part, so lean histograms (gateway/ops/lean-histogram.ts).
  const frameAge = new LeanHistogram('camfan_frame_age_seconds', 'Capture timestamp to arrival at this gateway, per frame', LATENCY_BUCKETS, 'camera').register(
    registry,
  );
  tally.histogram = new LeanHistogram(
    'camfan_delivery_latency_seconds',
    "Capture timestamp to the last byte of a frame handed to a viewer's socket on this gateway (MJPEG and /ws, every camera), per delivered frame: the age at the gateway, not at the viewer (camfan_viewer_ack_age_seconds, camfan_mjpeg_sent_age_seconds)",
    LATENCY_BUCKETS,
  ).register(registry);
  hub.onFrameArrived = (frame) => frameAge.observe((Date.now() - frame.timestamp) / 1000, frame.camera);
  const round = new LeanHistogram(
    'camfan_fanout_round_seconds',
    'Time to hand one frame to every viewer of its camera on this gateway (a fan-out round)',
    LATENCY_BUCKETS,
    'camera',
  ).register(registry);
  hub.onRound = (camera, ms) => round.observe(ms / 1000, camera);
  registerViewerAge(registry, hub, tally, staleViewerMs);

  const perCamera = (
    name: string,
    help: string,
    type: 'counter' | 'gauge',
    pick: (t: ReturnType<CameraHub['totals']> extends Map<string, infer T> ? T : never) => number,
  ): void => {
    const config = { name, help, labelNames: ['camera'] as const, registers: [registry] };
    if (type === 'gauge') {
      new client.Gauge({
        ...config,
        collect() {
          this.reset();
          for (const [camera, t] of hub.totals()) this.set({ camera }, pick(t));
        },
      });
      return;
    }
    // Totals are kept by the hub; a counter is reset and set to them at each scrape.
    new client.Counter({
      ...config,
      collect() {
        this.reset();
        for (const [camera, t] of hub.totals()) this.inc({ camera }, pick(t));
      },
    });
  };
  perCamera('camfan_viewers', 'Viewers connected to this gateway', 'gauge', (t) => t.viewers);
  perCamera('camfan_frames_delivered_total', 'Whole parts sent to viewers', 'counter', (t) => t.delivered);
  perCamera('camfan_bytes_sent_total', 'Bytes of whole frames sent to viewers (MJPEG parts and /ws messages): the goodput', 'counter', (t) => t.bytes);
  perCamera('camfan_frames_received_total', 'Frames received from the bus', 'counter', (t) => t.framesReceived);
  perCamera(
    'camfan_frames_superseded_total',
    "Frames replaced by a newer one before they reached every viewer here (fan-out slower than the camera's rate)",
    'counter',
    (t) => t.superseded,
  );

  new client.Counter({
    name: 'camfan_frames_dropped_total',
    help: 'Frames a viewer did not get: replaced while its socket was backpressured, or skipped for its ?fps cap',
    labelNames: ['camera', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [camera, t] of hub.totals()) {
        this.inc({ camera, reason: 'backpressure' }, t.dropped);
        this.inc({ camera, reason: 'fps_cap' }, t.capped);
      }
    },
  });

  const busCounter = (name: string, help: string, pick: () => number): void => {
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pick());
      },
    });
  };
  busCounter('camfan_redis_reconnects_total', 'Redis connections re-established after a loss', () => bus.stats.reconnects);
  busCounter('camfan_bus_messages_received_total', 'Frame messages received from Redis', () => bus.stats.received);
  busCounter('camfan_bus_malformed_total', 'Malformed or foreign messages dropped', () => bus.stats.malformed);
  busCounter(
    'camfan_subscribe_failovers_total',
    'Times frames moved to the next REDIS_SUBSCRIBE_URL endpoint because the current one was down',
    () => bus.subscribeEndpoint?.()?.failovers ?? 0,
  );
  new client.Gauge({
    name: 'camfan_subscribe_endpoint',
    help: 'Index in REDIS_SUBSCRIBE_URL (REDIS_URL last) of the endpoint frames are read from, labelled with it (no series without REDIS_SUBSCRIBE_URL)',
    labelNames: ['url', 'role', 'master_link'],
    registers: [registry],
    collect() {
      this.reset();
      const e = bus.subscribeEndpoint?.();
      if (e) this.set({ url: e.url, role: e.role, master_link: e.masterLink ?? '' }, e.index);
    },
  });
  new client.Counter({
    name: 'camfan_frames_rejected_total',
    help: 'Frames from the bus refused by this gateway: too_large (MAX_FRAME_BYTES), future (MAX_CLOCK_SKEW_MS), boundary (JPEG holds the stream delimiter)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(hub.check.rejected)) this.inc({ reason }, n);
    },
  });
  busCounter(
    'camfan_cameras_gone_total',
    'Watched cameras whose capture stopped announcing itself for CAMERA_GONE_MS (their streams were ended)',
    () => hub.watchdog.camerasGone,
  );
  busCounter(
    'camfan_frames_late_total',
    "Frames from the subscription dropped as late: LATE_FRAME_MS later than their camera's quickest (a Redis replica replaying its backlog)",
    () => hub.lateDropped,
  );
  busCounter(
    'camfan_viewers_stall_closed_total',
    'Viewers closed because their socket took nothing for STALL_CLOSE_MS, counted from its first refused write (once kernel buffers were full)',
    () => hub.watchdog.stallClosed,
  );
  new client.Counter({
    name: 'camfan_requests_refused_total',
    help: 'Requests and /ws commands refused, by reason: the refusal code (README "Refusal codes"), e.g. auth, max_viewers, max_viewers_per_ip, saturated (MAX_VIEWERS=auto), host (ALLOWED_HOSTS), origin (/ws), operator_address',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(refusals.all())) this.inc({ reason }, n);
    },
  });
  new client.Gauge({
    name: 'camfan_gateway_load',
    help: 'Share of time spent delivering frames (smoothed, 0-1): fan-out rounds, socket drains, acknowledged sends; what AUTO_MAX_LOAD compares',
    registers: [registry],
    collect() {
      this.set(capacity.load);
    },
  });
  new client.Gauge({
    name: 'camfan_gateway_event_loop_utilization',
    help: 'Share of time the event loop is busy (smoothed, 0-1): delivery and everything else (requests, refusals, timers)',
    registers: [registry],
    collect() {
      this.set(capacity.loop);
    },
  });
  new client.Gauge({
    name: 'camfan_gateway_saturated',
    help: '1 while the load is at or past AUTO_MAX_LOAD, or the link is full (camfan_gateway_backed_up at or past AUTO_MAX_BACKED_UP)',
    registers: [registry],
    collect() {
      this.set(capacity.saturated ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'camfan_gateway_backed_up',
    help: "Share of viewers' connections whose frames back up behind unsent ones (smoothed, 0-1): the link's load",
    registers: [registry],
    collect() {
      this.set(capacity.link.share);
    },
  });
  new client.Gauge({
    name: 'camfan_gateway_saturated_link',
    help: `1 while the link is full: at least ${MIN_BACKED_UP} connections, and AUTO_MAX_BACKED_UP of them, back up at once`,
    registers: [registry],
    collect() {
      this.set(capacity.link.saturated ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'camfan_gateway_ready',
    help: '1 while /readyz would answer 200: Redis reachable and (MAX_VIEWERS=auto) room for another viewer',
    registers: [registry],
    collect() {
      this.set(bus.isReady() && !capacity.full ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'camfan_redis_ready',
    help: '1 while Redis is reachable',
    registers: [registry],
    collect() {
      this.set(bus.isReady() ? 1 : 0);
    },
  });

  // What each capture announces (about once a second), so one scrape target shows the whole pipeline.
  const captureGauge = (name: string, help: string, pick: (c: Awaited<ReturnType<CameraHub['cameras']>>[number]) => number | null): void => {
    new client.Gauge({
      name,
      help,
      labelNames: ['camera'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await hub.cameras()) {
          const v = pick(c);
          if (v !== null) this.set({ camera: c.camera }, v);
        }
      },
    });
  };
  captureGauge('camfan_capture_fps', 'Frames per second the capture published over its last second', (c) => c.fps);
  captureGauge('camfan_capture_frame_bytes', 'Size of the last published JPEG', (c) => c.lastFrameBytes);
  captureGauge('camfan_capture_encode_seconds', "Median JPEG encode time of the capture's recent frames", (c) =>
    c.encodeMsP50 === null || c.encodeMsP50 === undefined ? null : c.encodeMsP50 / 1000,
  );
  captureGauge('camfan_capture_live', '1 while the camera has a live frame', (c) => (hub.isFresh(c.lastFrameAt) ? 1 : 0));
  captureGauge('camfan_capture_idle', '1 while the capture runs at its idle rate (nobody watching)', (c) => (c.idle ? 1 : 0));

  return { registry, contentType: registry.contentType };
}
