/**
 * Opening an HTTP(S) camera, redirects included. A camera (or whoever controls its address) that redirects
 * elsewhere could make the capture publish another origin's pictures, so each redirect is decided here,
 * by CAPTURE_REDIRECTS: refuse (none followed), same-origin (the default: followed while the target has
 * the camera's own scheme, host and port) or follow (any http(s) target), at most MAX_REDIRECTS in a row
 * (a loop ends there). Each one followed is logged and each one refused is in the source's error, with its
 * target redacted like the source (describe.ts). The camera's userinfo credentials go to its own origin only.
 *
 * Both readers open through this: camfan's own MJPEG reader (http-mjpeg.ts) reads the response it returns;
 * for OpenCV/FFmpeg (opencv.ts), which would follow any redirect by itself, the capture probes the URL
 * first and gives FFmpeg the final one, with FFmpeg's own redirects turned off (ffmpegOptions).
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../../../lib/log.js';
import { describeUrl } from './describe.js';
import { SourceError } from './source.js';

/** CAPTURE_REDIRECTS. */
export type RedirectPolicy = 'refuse' | 'same-origin' | 'follow';
export const REDIRECT_POLICIES: readonly RedirectPolicy[] = ['refuse', 'same-origin', 'follow'];
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface HttpOpenOptions {
  redirects: RedirectPolicy;
  /** No byte from the server this long: the request is given up. */
  timeoutMs: number;
  log: Logger;
  /** The source as logs name it (no credential). */
  description: string;
  /** Each request made (the first and every redirect's), as it is made. */
  onRequest?: (req: http.ClientRequest) => void;
}

/** What to do with a response: use it (null), follow a redirect to a URL, or refuse it (why, for the log). */
export type RedirectDecision = null | { follow: string } | { refused: string };

/**
 * hops: redirects followed so far; origin: the camera's (CAPTURE_SOURCE's) URL, which same-origin
 * compares against, so that a chain of redirects cannot walk away from it either.
 */
export function decideRedirect(
  status: number,
  location: string | undefined,
  from: string,
  origin: string,
  hops: number,
  policy: RedirectPolicy,
): RedirectDecision {
  if (!REDIRECT_STATUSES.has(status)) return null;
  if (!location) return { refused: 'a redirect without Location, not followed' };
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return { refused: 'a redirect to an unreadable Location, not followed' };
  }
  const to = `a redirect to ${describeUrl(target.href)}, not followed`;
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { refused: `${to}: not http(s)` };
  if (policy === 'refuse') return { refused: `${to} (CAPTURE_REDIRECTS=refuse)` };
  if (policy === 'same-origin' && target.origin !== new URL(origin).origin)
    return { refused: `${to}: another origin (CAPTURE_REDIRECTS=same-origin; follow would follow it)` };
  if (hops >= MAX_REDIRECTS) return { refused: `${to}: more than ${MAX_REDIRECTS} redirects in a row (a loop?)` };
  return { follow: target.href };
}

/** GETs the camera's URL, following the redirects CAPTURE_REDIRECTS allows; resolves with the first other response and its URL. */
export async function openHttp(url: string, o: HttpOpenOptions): Promise<{ res: http.IncomingMessage; url: string }> {
  let current = url;
  for (let hops = 0; ; hops++) {
    const res = await get(current, url, o);
    const status = res.statusCode ?? 0;
    const decision = decideRedirect(status, res.headers.location, current, url, hops, o.redirects);
    if (decision === null) return { res, url: current };
    res.destroy();
    if ('refused' in decision) throw new SourceError(`${o.description} answered HTTP ${status} (${decision.refused})`);
    o.log.warn({ source: o.description, status, to: describeUrl(decision.follow), hop: hops + 1 }, 'the camera redirects; following (CAPTURE_REDIRECTS)');
    current = decision.follow;
  }
}

/**
 * Where OpenCV/FFmpeg should open an http(s) camera: the URL its redirects lead to (openHttp), with the
 * camera's userinfo when that is on its own origin (FFmpeg takes credentials from the URL only).
 */
export async function probeForFfmpeg(url: string, o: HttpOpenOptions): Promise<string> {
  const { res, url: final } = await openHttp(url, o);
  res.destroy();
  if (final === url) return url;
  const target = new URL(final);
  const camera = new URL(url);
  if (target.origin === camera.origin && !target.username && !target.password) {
    target.username = camera.username;
    target.password = camera.password;
  }
  return target.href;
}

/**
 * OpenCV's FFmpeg options (OPENCV_FFMPEG_CAPTURE_OPTIONS, read at each open): FFmpeg follows no
 * redirect itself (the probe decided them), on top of OpenCV's own default (RTSP over TCP) or the operator's.
 */
export function ffmpegOptions(current: string | undefined): string {
  const base = current ?? 'rtsp_transport;tcp';
  return /(^|\|)max_redirects;/.test(base) ? base : `${base}|max_redirects;0`;
}

/** The camera's userinfo as Basic auth, for its own origin only. */
function authorizationFor(url: URL, camera: URL): string | null {
  const u = url.username || url.password ? url : url.origin === camera.origin ? camera : null;
  if (!u || (!u.username && !u.password)) return null;
  return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
}

function get(url: string, camera: string, o: HttpOpenOptions): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const headers: Record<string, string> = { 'user-agent': 'camfan-capture', accept: 'multipart/x-mixed-replace, image/jpeg, */*' };
  const authorization = authorizationFor(u, new URL(camera));
  if (authorization) headers.authorization = authorization;
  const options = { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || undefined, path: `${u.pathname}${u.search}`, headers, agent: false as const };
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).get(options);
    o.onRequest?.(req);
    const silence = `no data from the server for ${o.timeoutMs} ms`;
    req.setTimeout(o.timeoutMs, () => req.destroy(new Error(silence)));
    // The idle timeout above restarts with every byte: a server that sends its head a byte a second would
    // hold the camera "opening" for ever. The whole head gets one stall interval, as a frame does.
    const headDeadline = setTimeout(() => {
      const slow = `no complete response head within ${o.timeoutMs} ms (STALL_TIMEOUT_MS)`;
      req.destroy(new Error(req.socket?.bytesRead ? slow : silence));
    }, o.timeoutMs);
    req.once('close', () => clearTimeout(headDeadline));
    req.once('response', (res) => {
      clearTimeout(headDeadline);
      resolve(res);
    });
    // Node's messages name the host at most (ECONNREFUSED 127.0.0.1:80), never the path or query.
    req.on('error', (err) => reject(new SourceError(`cannot read ${o.description}: ${err.message}`)));
  });
}
