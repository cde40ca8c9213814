/**
 * The HTTP surface (uWebSockets.js), as a table of contents: every GET route with its guard and its named
 * handler. One pre-step serves them all: the Host (ALLOWED_HOSTS), the request's credentials, client
 * address and CORS headers read at once (uWS invalidates the request after the first await; the token cookie
 * is taken only from the gateway's own pages: access/fetch-metadata.ts), the guard
 * (and for camera routes the camera id), abort tracking, and a thrown error turned into a 500. Every
 * refusal comes from refusals.ts and leaves through refuser.ts. /ws is in ws.ts.
 */
import { CAMERA_ID_RE } from '../../lib/ids.js';
import { readClient, readCredentials } from '../access/access.js';
import { resourcePolicy } from '../access/fetch-metadata.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';
import type { Ctx, Handler, HttpOptions } from './context.js';
import { cameras, favicon, healthz, metrics, page, pageFile, readyz, snapshot, stats } from './handlers.js';
import { decodeParam } from './query.js';
import { REFUSALS, type HttpRefusal } from './refusals.js';
import type { Refuser } from './refuser.js';
import { COMMON_HEADERS } from './respond.js';
import { stream } from './stream.js';

export type { HttpOptions } from './context.js';

/**
 * health: anyone, any Host (load balancers probe by address); public: anyone on an ALLOWED_HOSTS name;
 * viewer: credentials that open the page; camera: credentials for the camera the route names;
 * operator: operator credentials or address (access.ts).
 */
type Guard = 'health' | 'public' | 'viewer' | 'camera' | 'operator';

export const ROUTES: ReadonlyArray<{ path: string; guard: Guard; handler: Handler }> = [
  { path: '/', guard: 'public', handler: page },
  { path: '/favicon.ico', guard: 'public', handler: favicon },
  { path: '/page/:file', guard: 'public', handler: pageFile },
  { path: '/video_feed', guard: 'camera', handler: stream },
  { path: '/stream/:camera', guard: 'camera', handler: stream },
  { path: '/snapshot/:camera', guard: 'camera', handler: snapshot },
  { path: '/healthz', guard: 'health', handler: healthz },
  { path: '/readyz', guard: 'health', handler: readyz },
  { path: '/api/cameras', guard: 'viewer', handler: cameras },
  { path: '/api/stats', guard: 'operator', handler: stats },
  { path: '/metrics', guard: 'operator', handler: metrics },
];

/** Paths a GET serves (and /ws), to tell 405 (known path, wrong method) from 404. */
const KNOWN_PATHS = [/^\/ws$/, ...ROUTES.map((r) => new RegExp(`^${r.path.replace(/:\w+/, '[^/]+').replace('.', '\\.')}$`))];

export function installRoutes(app: TemplatedApp, o: HttpOptions): void {
  const { access, log, refuser } = o;

  /** The guard's verdict; false when refused (and the refusal sent). */
  const admitted = (res: HttpResponse, req: HttpRequest, guard: Guard, path: string, ctx: Ctx): boolean => {
    if (guard === 'camera') ctx.camera = path.includes(':camera') ? decodeParam(req.getParameter(0)) : o.defaultCamera;
    const refusal = guardRefusal(guard, ctx);
    if (refusal === null) return true;
    if (refusal === REFUSALS.credentials && ctx.creds.cookie === 'refused') refuseCookie(res, req, ctx);
    else if (refusal === REFUSALS.credentials) refuser.unauthorized(res, ctx.cors);
    else refuser.http(res, refusal, ctx.cors);
    return false;
  };

  /** The token cookie was the only credential, from another origin's page: counted as origin; logged at the first and every 100th. */
  const refuseCookie = (res: HttpResponse, req: HttpRequest, ctx: Ctx): void => {
    refuser.http(res, REFUSALS.cookieOrigin, ctx.cors);
    const n = refuser.counts.get(REFUSALS.cookieOrigin.code);
    if (n === 1 || n % 100 === 0) {
      const site = req.getHeader('sec-fetch-site');
      log.info(
        { url: req.getUrl().slice(0, 100), site, dest: req.getHeader('sec-fetch-dest'), remote: ctx.client.address, refused: n },
        'token cookie refused: request from another origin',
      );
    }
  };

  const guardRefusal = (guard: Guard, ctx: Ctx): HttpRefusal | null => {
    if (guard === 'viewer' && !access.allows(ctx.creds)) return REFUSALS.credentials;
    if (guard === 'camera' && !CAMERA_ID_RE.test(ctx.camera)) return REFUSALS.noSuchCamera(ctx.camera);
    if (guard === 'camera' && !access.allows(ctx.creds, ctx.camera)) return REFUSALS.credentials;
    if (guard !== 'operator') return null;
    const verdict = access.operatorVerdict(ctx.creds, ctx.client);
    if (verdict === 'unauthorized') return REFUSALS.credentials;
    return verdict === 'forbidden' ? REFUSALS.operatorAddress : null;
  };

  const prepare =
    (guard: Guard, path: string, handler: Handler) =>
    (res: HttpResponse, req: HttpRequest): void => {
      const client = readClient(res, req, access.trusted);
      if (!access.takeRequest(client.address)) return refuser.requestRate(res, client);
      if (guard !== 'health' && !access.hostAllowed(req.getHeader('host'))) return refuser.http(res, REFUSALS.host);
      const hooks: Array<() => void> = [];
      const ctx: Ctx = {
        aborted: false,
        creds: readCredentials(req, access.corsOrigins),
        client,
        cors: access.cors(req.getHeader('origin')),
        corp: [],
        camera: '',
        onAbort: (fn) => hooks.push(fn),
      };
      res.onAborted(() => {
        ctx.aborted = true;
        for (const fn of hooks) fn();
      });
      if (!admitted(res, req, guard, path, ctx)) return;
      if (guard === 'viewer' || guard === 'camera' || guard === 'operator') ctx.corp = [resourcePolicy(access.open ? null : ctx.creds.cookie)];
      const fail = (err: unknown): void => {
        log.error({ err }, 'request handler failed');
        if (!ctx.aborted) refuser.http(res, REFUSALS.internal, ctx.cors);
      };
      try {
        const p = handler(res, req, ctx, o);
        if (p) p.catch(fail);
      } catch (err) {
        fail(err);
      }
    };

  for (const r of ROUTES) app.get(r.path, prepare(r.guard, r.path, r.handler));

  app.options(
    '/*',
    prepare('public', '', (res, _req, ctx) => preflight(res, ctx, refuser)),
  );
  app.any(
    '/*',
    prepare('public', '', (res, req) => {
      if (KNOWN_PATHS.some((p) => p.test(req.getUrl()))) return refuser.http(res, REFUSALS.wrongMethod(req.getCaseSensitiveMethod()), [['Allow', 'GET']]);
      refuser.http(res, REFUSALS.notFound);
    }),
  );
}

/** OPTIONS: a CORS preflight, answered only for origins in CORS_ORIGINS. */
function preflight(res: HttpResponse, ctx: Ctx, refuser: Refuser): void {
  if (ctx.cors.length === 0) return refuser.http(res, REFUSALS.corsOff, [['Allow', 'GET']]);
  res.cork(() => {
    res.writeStatus('204 No Content');
    for (const [k, v] of [
      ...COMMON_HEADERS,
      ...ctx.cors,
      ['Access-Control-Allow-Methods', 'GET'],
      ['Access-Control-Allow-Headers', 'Authorization'],
      ['Access-Control-Max-Age', '600'],
    ])
      res.writeHeader(k!, v!);
    res.endWithoutBody();
  });
}
