/**
 * The HTTP surface (uWebSockets.js): viewer page, MJPEG streams, snapshots, health and the camera API.
 * Every error is a 4xx/5xx with a one-line text body; nothing a client sends can throw out of a handler.
 */
import { CAMERA_ID_RE } from '../lib/settings.js';
import type { Logger } from '../lib/log.js';
import type { FrameBus } from '../bus/bus.js';
import type { CameraHub } from './cameras.js';
import { chooseFraming, STREAM_CONTENT_TYPE, Viewer } from './mjpeg.js';
import type { GatewayMetrics } from './metrics.js';
import { renderPage } from './page.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

export interface HttpOptions {
  hub: CameraHub;
  metrics: GatewayMetrics;
  bus: FrameBus;
  log: Logger;
  defaultCamera: string;
}

/** Security headers every response carries. */
const COMMON_HEADERS: ReadonlyArray<readonly [string, string]> = [['X-Content-Type-Options', 'nosniff']];

const STREAM_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Content-Type', STREAM_CONTENT_TYPE],
  ['Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0'],
  ['Pragma', 'no-cache'],
  // nginx would otherwise buffer the endless response and viewers would see nothing.
  ['X-Accel-Buffering', 'no'],
  ...COMMON_HEADERS,
];

/** Paths a GET serves, to tell 405 (known path, wrong method) from 404. */
const ROUTES = [/^\/$/, /^\/video_feed$/, /^\/stream\/[^/]+$/, /^\/snapshot\/[^/]+$/, /^\/healthz$/, /^\/readyz$/, /^\/api\/cameras$/, /^\/api\/stats$/, /^\/metrics$/];

function send(res: HttpResponse, status: string, contentType: string, body: string | Buffer, extra: ReadonlyArray<readonly [string, string]> = []): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', contentType).writeHeader('Cache-Control', 'no-store');
    for (const [k, v] of [...COMMON_HEADERS, ...extra]) res.writeHeader(k, v);
    res.end(body);
  });
}

function sendText(res: HttpResponse, status: string, text: string, extra: ReadonlyArray<readonly [string, string]> = []): void {
  send(res, status, 'text/plain; charset=utf-8', `${text}\n`, extra);
}

function sendJson(res: HttpResponse, status: string, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

/** Runs an async handler: tracks abort, turns a thrown error into a 500 instead of a crash. */
function handle(log: Logger, fn: (res: HttpResponse, req: HttpRequest, state: { aborted: boolean }) => Promise<void> | void) {
  return (res: HttpResponse, req: HttpRequest): void => {
    const state = { aborted: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    const fail = (err: unknown): void => {
      log.error({ err }, 'request handler failed');
      if (!state.aborted) sendText(res, '500 Internal Server Error', 'internal error');
    };
    try {
      const p = fn(res, req, state);
      if (p) p.catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}

export function installRoutes(app: TemplatedApp, o: HttpOptions): void {
  const { hub, bus, log } = o;

  const stream = (res: HttpResponse, req: HttpRequest, camera: string): void => {
    const framing = chooseFraming(req.getQuery('framing'), req.getHeader('user-agent'));
    if (!CAMERA_ID_RE.test(camera)) return sendText(res, '404 Not Found', `no such camera: ${JSON.stringify(camera.slice(0, 64))}`);
    if (!framing) return sendText(res, '400 Bad Request', 'framing must be advance or classic');
    const fps = parseFps(req.getQuery('fps'));
    if (fps === null) return sendText(res, '400 Bad Request', `fps must be a whole number from 1 to ${MAX_VIEWER_FPS}`);
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    const viewer = new Viewer(res, camera, framing, { remote, onDelivered: o.metrics.observeDelivery, ...(fps === undefined ? {} : { maxFps: fps }) });
    res.onAborted(() => {
      viewer.aborted();
      hub.unwatch(viewer);
    });
    void (async () => {
      if (!(await hub.isKnown(camera))) {
        if (!viewer.closed) sendText(res, '404 Not Found', `no such camera: ${camera}`);
        viewer.aborted();
        return;
      }
      if (viewer.closed) return;
      viewer.begin(STREAM_HEADERS);
      await hub.watch(viewer);
    })().catch((err: unknown) => {
      log.error({ err, camera }, 'stream failed');
      viewer.close();
    });
  };

  app.get('/video_feed', (res, req) => stream(res, req, o.defaultCamera));
  app.get('/stream/:camera', (res, req) => stream(res, req, decodeParam(req.getParameter(0))));

  app.get(
    '/snapshot/:camera',
    handle(log, async (res, req, state) => {
      const camera = decodeParam(req.getParameter(0));
      if (!CAMERA_ID_RE.test(camera) || !(await hub.isKnown(camera))) {
        if (!state.aborted) sendText(res, '404 Not Found', `no such camera: ${JSON.stringify(camera.slice(0, 64))}`);
        return;
      }
      const packet = await hub.snapshot(camera);
      if (state.aborted) return;
      if (!packet) return sendText(res, '503 Service Unavailable', `camera ${camera} has no live frame (capture stopped or not started)`, [['Retry-After', '1']]);
      const f = packet.frame;
      send(res, '200 OK', 'image/jpeg', f.jpeg, [['X-Timestamp', (f.timestamp / 1000).toFixed(6)], ['X-Frame-Seq', String(f.seq)]]);
    }),
  );

  app.get('/healthz', handle(log, (res) => sendJson(res, '200 OK', { status: 'ok', pid: process.pid })));
  app.get(
    '/readyz',
    handle(log, (res) => (bus.isReady() ? sendJson(res, '200 OK', { status: 'ready' }) : sendJson(res, '503 Service Unavailable', { status: 'redis unreachable' }))),
  );

  app.get(
    '/api/cameras',
    handle(log, async (res, _req, state) => {
      const list = await hub.cameras();
      if (state.aborted) return;
      sendJson(res, '200 OK', {
        defaultCamera: o.defaultCamera,
        cameras: list.map((c) => ({ ...c, live: hub.isFresh(c.lastFrameAt), viewersHere: hub.viewerCount(c.camera) })),
      });
    }),
  );

  app.get(
    '/api/stats',
    handle(log, (res) => sendJson(res, '200 OK', { pid: process.pid, uptimeSeconds: Math.round(process.uptime()), bus: bus.stats, ...hub.stats() })),
  );

  app.get(
    '/metrics',
    handle(log, async (res, _req, state) => {
      const text = await o.metrics.registry.metrics();
      if (!state.aborted) send(res, '200 OK', o.metrics.contentType, text);
    }),
  );

  app.get('/', handle(log, (res) => send(res, '200 OK', 'text/html; charset=utf-8', renderPage(o.defaultCamera))));

  app.any(
    '/*',
    handle(log, (res, req) => {
      const url = req.getUrl();
      if (ROUTES.some((r) => r.test(url))) return sendText(res, '405 Method Not Allowed', `${req.getCaseSensitiveMethod()} is not allowed here; use GET`, [['Allow', 'GET']]);
      sendText(res, '404 Not Found', 'not found');
    }),
  );
}

const MAX_VIEWER_FPS = 120;

/** ?fps=N caps a viewer's frame rate: undefined when absent, null when invalid. */
function parseFps(raw: string | undefined): number | undefined | null {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,3}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= MAX_VIEWER_FPS ? n : null;
}

/** Route parameters arrive percent-encoded; a bad escape is just an unknown camera. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
