/**
 * The gateway's HTTP handlers but streams (stream.ts), one named function each. The pre-step in
 * routes.ts has already checked the Host, the credentials and, for camera routes, the camera id.
 */
import { FAVICON_ASSET, pageAsset } from '../page/assets.js';
import { renderLogin, renderPage } from '../page/html.js';
import { snapRendition } from '../adaptation/renditions.js';
import { LIMITS } from '../../lib/ids.js';
import type { ListedCamera } from '../../lib/wire/camera-info.mjs';
import type { Handler } from './context.js';
import { REFUSALS } from './refusals.js';
import { send, sendJson } from './respond.js';
import { decodeParam, parseWhole } from './query.js';

/**
 * No Referer from the page at all: opened as /?token=…, its own address holds the token until its script
 * takes it out, and the browser asks for /page/main.js (and anything else) before that script has run.
 */
const NO_REFERRER: [string, string] = ['Referrer-Policy', 'no-referrer'];

/** The viewer page; trades ?token= for the page's cookie (access.ts). Without credentials: a 401 page to enter a token. */
export const page: Handler = (res, req, ctx, o) => {
  if (!o.access.allows(ctx.creds)) return o.refuser.unauthorized(res, [...ctx.cors, NO_REFERRER], renderLogin);
  const cookie = o.access.tokenCookie(ctx.creds, ctx.client, req.getHeader('x-forwarded-proto'));
  send(res, '200 OK', 'text/html; charset=utf-8', renderPage(o.defaultCamera), [NO_REFERRER, ...cookie]);
};

/** The page's favicon. */
export const favicon: Handler = (res) => send(res, '200 OK', FAVICON_ASSET.contentType, FAVICON_ASSET.body);

/** The page's client modules, public like its markup. */
export const pageFile: Handler = (res, req, _ctx, o) => {
  const asset = pageAsset(decodeParam(req.getParameter(0)));
  if (!asset) return o.refuser.http(res, REFUSALS.notFound);
  send(res, '200 OK', asset.contentType, asset.body);
};

/** The camera's (or a rendition's) freshest live JPEG. */
export const snapshot: Handler = async (res, req, ctx, o) => {
  const width = parseWhole(req.getQuery('width'), LIMITS.renditionWidth.min, LIMITS.renditionWidth.max);
  if (width === null) return o.refuser.http(res, REFUSALS.badWidth, ctx.cors);
  if (!(await o.hub.isKnown(ctx.camera))) {
    // A listing that just timed out already says Redis is down: asking it again would be a second timeout.
    const redisDown = o.hub.listUnreachable || !(await o.bus.checkReady());
    if (ctx.aborted) return;
    return o.refuser.http(res, redisDown ? REFUSALS.redisDown : REFUSALS.noSuchCamera(ctx.camera), ctx.cors);
  }
  const rendition = width === undefined ? null : snapRendition(width, o.hub.cameraWidth(ctx.camera), o.renditionWidths);
  const packet = await o.hub.snapshot(ctx.camera, rendition);
  if (ctx.aborted) return;
  if (!packet) return o.refuser.http(res, REFUSALS.noLiveFrame(ctx.camera), ctx.cors);
  const f = packet.frame;
  send(res, '200 OK', 'image/jpeg', f.jpeg, [
    ['X-Timestamp', (f.timestamp / 1000).toFixed(6)],
    ['X-Frame-Seq', String(f.seq)],
    ['X-Frame-Size', `${f.width}x${f.height}`],
    ...ctx.cors,
    ...ctx.corp,
  ]);
};

export const healthz: Handler = (res) => sendJson(res, '200 OK', { status: 'ok', pid: process.pid });

/** Ready: Redis answers a PING in time, and (MAX_VIEWERS=auto) there is room for another viewer. */
export const readyz: Handler = async (res, _req, ctx, o) => {
  const ready = await o.bus.checkReady();
  if (ctx.aborted) return;
  if (!ready) return sendJson(res, '503 Service Unavailable', { status: 'redis unreachable or not answering' });
  // Saturated: a load balancer should send new viewers elsewhere (the ones here keep their rate).
  if (o.capacity.full) return sendJson(res, '503 Service Unavailable', { status: 'saturated', ...o.capacity.describe() });
  // Frames read through a fallback still flow: ready, and the body says from where (a replica's lost master link too).
  const subscribe = o.bus.subscribeEndpoint?.();
  sendJson(res, '200 OK', { status: 'ready', load: o.capacity.describe().load, ...(subscribe ? { subscribe } : {}) });
};

/** The cameras these credentials may watch. */
export const cameras: Handler = async (res, _req, ctx, o) => {
  // The hub falls back to the last list it had; a Redis that does not answer is a 503, not stale data.
  const [list, ready] = await Promise.all([o.hub.cameras(), o.bus.checkReady()]);
  if (ctx.aborted) return;
  if (!ready) return o.refuser.http(res, REFUSALS.redisDown, ctx.cors);
  const mine = list.filter((c) => o.access.allows(ctx.creds, c.camera));
  const listed: ListedCamera[] = mine.map((c) => ({ ...c, live: o.hub.isFresh(c.lastFrameAt), viewersHere: o.hub.viewerCount(c.camera) }));
  const body = {
    defaultCamera: o.defaultCamera,
    cameras: listed,
  };
  sendJson(res, '200 OK', body, [...ctx.cors, ...ctx.corp]);
};

/** Per camera and per viewer figures (µStreamer's /state), for operators. */
export const stats: Handler = (res, _req, ctx, o) =>
  sendJson(
    res,
    '200 OK',
    {
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      bus: o.bus.stats,
      refused: o.refuser.counts.all(),
      capacity: o.capacity.describe(),
      ...o.hub.stats(),
    },
    ctx.corp,
  );

export const metrics: Handler = async (res, _req, ctx, o) => {
  const text = await o.metrics.registry.metrics();
  if (!ctx.aborted) send(res, '200 OK', o.metrics.contentType, text, ctx.corp);
};
