/**
 * The HTTP surface (uWebSockets.js): viewer page, MJPEG streams, snapshots, health and the camera API.
 * Every error is a 4xx/5xx with a one-line text body; nothing a client sends can throw out of a handler.
 */
import { CAMERA_ID_RE } from '../lib/settings.js';
import type { Logger } from '../lib/log.js';
import type { FrameBus } from '../bus/bus.js';
import type { Capacity } from './capacity.js';
import type { CameraHub } from './cameras.js';
import { MjpegViewer } from './mjpeg-viewer.js';
import { chooseFraming, STREAM_CONTENT_TYPE } from './packet.js';
import { readClient, readCredentials, type Access, type Credentials } from './access.js';
import type { ClientAddress } from './client-address.js';
import type { GatewayMetrics } from './metrics.js';
import type { DeliveryObserver } from './viewer.js';
import { renderLogin, renderPage } from './page/html.js';
import { FAVICON_ASSET, pageAsset } from './page/assets.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

export interface HttpOptions {
  hub: CameraHub;
  access: Access;
  metrics: GatewayMetrics;
  capacity: Capacity;
  observer: DeliveryObserver;
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
const ROUTES = [/^\/ws$/, /^\/$/, /^\/video_feed$/, /^\/stream\/[^/]+$/, /^\/snapshot\/[^/]+$/, /^\/healthz$/, /^\/readyz$/, /^\/api\/cameras$/, /^\/api\/stats$/, /^\/metrics$/, /^\/favicon\.ico$/, /^\/page\/[^/]+$/];

function send(res: HttpResponse, status: string, contentType: string, body: string | Buffer, extra: Headers = []): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', contentType).writeHeader('Cache-Control', 'no-store');
    for (const [k, v] of [...COMMON_HEADERS, ...extra]) res.writeHeader(k, v);
    res.end(body);
  });
}

function sendText(res: HttpResponse, status: string, text: string, extra: Headers = []): void {
  send(res, status, 'text/plain; charset=utf-8', `${text}\n`, extra);
}

function sendJson(res: HttpResponse, status: string, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

type Headers = ReadonlyArray<readonly [string, string]>;

/** What a handler gets besides res: abort state, the request's credentials, client and CORS headers. */
interface BaseCtx {
  aborted: boolean;
  creds: Credentials;
  cors: Headers;
}
interface Ctx extends BaseCtx {
  client: ClientAddress;
}

/** health: anyone, any Host (load balancers probe by address); public: anyone on an ALLOWED_HOSTS name. */
type Guard = 'health' | 'public' | 'viewer' | 'operator';

export function installRoutes(app: TemplatedApp, o: HttpOptions): void {
  const { hub, bus, log, access, capacity } = o;

  const unauthorized = (res: HttpResponse, ctx: BaseCtx): void => {
    access.refuseAuth();
    sendText(res, '401 Unauthorized', 'credentials required', [...access.challenge(), ...ctx.cors]);
  };

  /** ALLOWED_HOSTS: false (and a 421 sent) for a Host this gateway does not answer to. */
  const hostOk = (res: HttpResponse, req: HttpRequest): boolean => {
    if (access.hostAllowed(req.getHeader('host'))) return true;
    sendText(res, '421 Misdirected Request', 'this gateway does not answer to that host name (ALLOWED_HOSTS)');
    return false;
  };

  /** false when refused (and the refusal sent). */
  const guardOk = (res: HttpResponse, guard: Guard, ctx: Ctx): boolean => {
    if (guard === 'viewer' && !access.allows(ctx.creds)) return unauthorized(res, ctx), false;
    if (guard !== 'operator') return true;
    const verdict = access.operatorVerdict(ctx.creds, ctx.client);
    if (verdict === 'unauthorized') return unauthorized(res, ctx), false;
    if (verdict === 'forbidden') return sendText(res, '403 Forbidden', 'operator data answers loopback and private addresses only; set OPERATOR_TOKEN to reach it from elsewhere'), false;
    return true;
  };

  /**
   * Wraps a handler: reads what it needs from req synchronously (uWS invalidates req after the first
   * await), checks credentials, tracks abort, and turns a thrown error into a 500 instead of a crash.
   */
  const route =
    (guard: Guard, fn: (res: HttpResponse, req: HttpRequest, ctx: Ctx) => Promise<void> | void) =>
    (res: HttpResponse, req: HttpRequest): void => {
      if (guard !== 'health' && !hostOk(res, req)) return;
      const ctx: Ctx = { aborted: false, creds: readCredentials(req), client: readClient(res, req, access.trusted), cors: access.cors(req.getHeader('origin')) };
      res.onAborted(() => {
        ctx.aborted = true;
      });
      if (!guardOk(res, guard, ctx)) return;
      const fail = (err: unknown): void => {
        log.error({ err }, 'request handler failed');
        if (!ctx.aborted) sendText(res, '500 Internal Server Error', 'internal error', ctx.cors);
      };
      try {
        const p = fn(res, req, ctx);
        if (p) p.catch(fail);
      } catch (err) {
        fail(err);
      }
    };

  const stream = (res: HttpResponse, req: HttpRequest, camera: string): void => {
    const creds = readCredentials(req);
    const cors = access.cors(req.getHeader('origin'));
    const framing = chooseFraming(req.getQuery('framing'), req.getHeader('user-agent'));
    const fps = parseFps(req.getQuery('fps'));
    if (!CAMERA_ID_RE.test(camera)) return sendText(res, '404 Not Found', `no such camera: ${JSON.stringify(camera.slice(0, 64))}`, cors);
    if (!access.allows(creds, camera)) return unauthorized(res, { aborted: false, creds, cors });
    if (!framing) return sendText(res, '400 Bad Request', 'framing must be advance or classic', cors);
    if (fps === null) return sendText(res, '400 Bad Request', `fps must be a whole number from 1 to ${MAX_VIEWER_FPS}`, cors);
    if (!capacity.admit(Math.min(fps ?? Infinity, hub.frameRate(camera)))) return sendText(res, '503 Service Unavailable', 'this gateway is at capacity; try another', [['Retry-After', '5'], ...cors]);
    const remote = readClient(res, req, access.trusted).address; // TRUSTED_PROXIES: the forwarded client, for limits and stats
    const admission = access.admit(remote);
    if (admission === 'max_viewers') return sendText(res, '503 Service Unavailable', 'this gateway serves its maximum number of viewers', [['Retry-After', '5'], ...cors]);
    if (admission === 'max_viewers_per_ip') return sendText(res, '429 Too Many Requests', 'too many streams from your address', [['Retry-After', '5'], ...cors]);
    const viewer = new MjpegViewer(res, camera, framing, { remote, observer: o.observer, maxFps: fps ?? null });
    let released = false;
    const release = (): void => {
      if (!released) access.release(remote);
      released = true;
    };
    res.onAborted(() => {
      viewer.aborted();
      hub.unwatch(viewer);
      release();
    });
    void (async () => {
      if (!(await hub.isKnown(camera))) {
        if (!viewer.closed) sendText(res, '404 Not Found', `no such camera: ${camera}`, cors);
        viewer.aborted();
        release();
        return;
      }
      if (viewer.closed) return;
      viewer.begin([...STREAM_HEADERS, ...cors]);
      await hub.watch(viewer);
    })().catch((err: unknown) => {
      log.error({ err, camera }, 'stream failed');
      viewer.close();
    });
  };

  app.get('/video_feed', (res, req) => {
    if (hostOk(res, req)) stream(res, req, o.defaultCamera);
  });
  app.get('/stream/:camera', (res, req) => {
    if (hostOk(res, req)) stream(res, req, decodeParam(req.getParameter(0)));
  });

  app.get(
    '/snapshot/:camera',
    route('public', async (res, req, ctx) => {
      const camera = decodeParam(req.getParameter(0));
      if (!CAMERA_ID_RE.test(camera)) return sendText(res, '404 Not Found', `no such camera: ${JSON.stringify(camera.slice(0, 64))}`, ctx.cors);
      if (!access.allows(ctx.creds, camera)) return unauthorized(res, ctx);
      if (!(await hub.isKnown(camera))) {
        const redisDown = !(await bus.checkReady());
        if (ctx.aborted) return;
        if (redisDown) return sendText(res, '503 Service Unavailable', 'Redis does not answer: the camera list is unknown', [['Retry-After', '1'], ...ctx.cors]);
        return sendText(res, '404 Not Found', `no such camera: ${camera}`, ctx.cors);
      }
      const packet = await hub.snapshot(camera);
      if (ctx.aborted) return;
      if (!packet) return sendText(res, '503 Service Unavailable', `camera ${camera} has no live frame (capture stopped or not started)`, [['Retry-After', '1'], ...ctx.cors]);
      const f = packet.frame;
      send(res, '200 OK', 'image/jpeg', f.jpeg, [['X-Timestamp', (f.timestamp / 1000).toFixed(6)], ['X-Frame-Seq', String(f.seq)], ...ctx.cors]);
    }),
  );

  app.get('/healthz', route('health', (res) => sendJson(res, '200 OK', { status: 'ok', pid: process.pid })));
  app.get(
    '/readyz',
    route('health', async (res, _req, ctx) => {
      const ready = await bus.checkReady();
      if (ctx.aborted) return;
      if (!ready) return sendJson(res, '503 Service Unavailable', { status: 'redis unreachable or not answering' });
      // Saturated: a load balancer should send new viewers elsewhere (the ones here keep their rate).
      if (capacity.full) return sendJson(res, '503 Service Unavailable', { status: 'saturated', ...capacity.describe() });
      sendJson(res, '200 OK', { status: 'ready', load: capacity.describe().load });
    }),
  );

  app.get(
    '/api/cameras',
    route('viewer', async (res, _req, ctx) => {
      // The hub falls back to the last list it had; a Redis that does not answer is a 503, not stale data.
      const [cameras, ready] = await Promise.all([hub.cameras(), bus.checkReady()]);
      if (ctx.aborted) return;
      if (!ready) return sendText(res, '503 Service Unavailable', 'Redis does not answer', [['Retry-After', '1'], ...ctx.cors]);
      const list = cameras.filter((c) => access.allows(ctx.creds, c.camera));
      const body = { defaultCamera: o.defaultCamera, cameras: list.map((c) => ({ ...c, live: hub.isFresh(c.lastFrameAt), viewersHere: hub.viewerCount(c.camera) })) };
      send(res, '200 OK', 'application/json', JSON.stringify(body), ctx.cors);
    }),
  );

  app.get(
    '/api/stats',
    route('operator', (res) =>
      sendJson(res, '200 OK', { pid: process.pid, uptimeSeconds: Math.round(process.uptime()), bus: bus.stats, refused: { ...access.refused, saturated: capacity.refused }, capacity: capacity.describe(), ...hub.stats() }),
    ),
  );

  app.get(
    '/metrics',
    route('operator', async (res, _req, ctx) => {
      const text = await o.metrics.registry.metrics();
      if (!ctx.aborted) send(res, '200 OK', o.metrics.contentType, text);
    }),
  );

  app.get(
    '/',
    route('public', (res, req, ctx) => {
      // Without credentials: a page to enter a token (or that explains Basic auth), still a 401.
      if (!access.allows(ctx.creds)) return access.refuseAuth(), send(res, '401 Unauthorized', 'text/html; charset=utf-8', renderLogin(access.challenge()[0]![1].startsWith('Basic')), [...access.challenge(), ...ctx.cors]);
      const cookie = access.tokenCookie(ctx.creds, ctx.client, req.getHeader('x-forwarded-proto'));
      send(res, '200 OK', 'text/html; charset=utf-8', renderPage(o.defaultCamera), [['Referrer-Policy', 'same-origin'], ...cookie]);
    }),
  );

  // The page's favicon and client modules: public, like the page's markup.
  app.get('/favicon.ico', route('public', (res) => send(res, '200 OK', FAVICON_ASSET.contentType, FAVICON_ASSET.body)));
  app.get('/page/:file', route('public', (res, req) => {
    const asset = pageAsset(decodeParam(req.getParameter(0)));
    return asset ? send(res, '200 OK', asset.contentType, asset.body) : sendText(res, '404 Not Found', 'not found');
  }));

  app.options(
    '/*',
    route('public', (res, _req, ctx) => {
      if (ctx.cors.length === 0) return sendText(res, '405 Method Not Allowed', 'CORS is not enabled for this origin', [['Allow', 'GET']]);
      res.cork(() => {
        res.writeStatus('204 No Content');
        for (const [k, v] of [...COMMON_HEADERS, ...ctx.cors, ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Allow-Headers', 'Authorization'], ['Access-Control-Max-Age', '600']]) res.writeHeader(k!, v!);
        res.endWithoutBody();
      });
    }),
  );

  app.any(
    '/*',
    route('public', (res, req) => {
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
