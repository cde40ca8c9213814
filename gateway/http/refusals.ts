/**
 * Every refusal the gateway makes, in one place (as fastify's lib/errors.js): a stable code, its status
 * line when it is an HTTP answer, its one-line text, and how soon to retry. HTTP routes and the /ws
 * handshake send them the same way (refuser.ts: text body, X-Camfan-Refusal: <code>); on an open /ws the
 * same entries go out as {"error":<text>,"code":<code>,"camera":…} (ws-protocol.ts). Clients match on the
 * code, never on the text, which may be reworded. The codes are listed in the README ("Refusal codes"),
 * and a refusal is counted under its code in camfan_requests_refused_total{reason}: the codes that were
 * labels before this catalogue (auth, host, origin, operator_address, saturated, max_viewers,
 * max_viewers_per_ip) kept their names.
 */
import { LIMITS } from '../../lib/ids.js';
import { WS_COMMANDS_PER_SECOND } from './ws-budget.js';

/** A refusal on an open /ws: its code and its text. */
export interface Refusal {
  code: string;
  text: string;
}

/** A refusal as an HTTP answer (a route, or the /ws handshake). */
export interface HttpRefusal extends Refusal {
  status: string;
  /** Seconds: sent as Retry-After. */
  retryAfter?: number;
}

const r = (code: string, status: string, text: string, retryAfter?: number): HttpRefusal =>
  retryAfter === undefined ? { code, status, text } : { code, status, text, retryAfter };
const ws = (code: string, text: string): Refusal => ({ code, text });

export const REFUSALS = {
  credentials: r('auth', '401 Unauthorized', 'credentials required'),
  host: r('host', '421 Misdirected Request', 'this gateway does not answer to that host name (ALLOWED_HOSTS)'),
  origin: r('origin', '403 Forbidden', 'origin not allowed (same origin or CORS_ORIGINS only)'),
  /** Counted under origin too: the same rule, for the token cookie on an HTTP route (access/fetch-metadata.ts). */
  cookieOrigin: r(
    'origin',
    '403 Forbidden',
    "the token cookie is taken from this gateway's own pages only (same origin or CORS_ORIGINS); elsewhere use ?token= or Authorization: Bearer",
  ),
  operatorAddress: r(
    'operator_address',
    '403 Forbidden',
    'operator data answers loopback and private addresses only; set OPERATOR_TOKEN to reach it from elsewhere',
  ),
  saturated: r('saturated', '503 Service Unavailable', 'this gateway is at capacity; try another', 5),
  maxViewers: r('max_viewers', '503 Service Unavailable', 'this gateway serves its maximum number of viewers', 5),
  maxViewersPerIp: r('max_viewers_per_ip', '429 Too Many Requests', 'too many viewers from your address', 5),
  /** Closes the connection too (its flood must pay for a new one): refuser.ts. */
  requestRate: r('request_rate', '429 Too Many Requests', 'too many requests from your address (REQUEST_RATE_PER_IP)', 1),
  badFraming: r('bad_framing', '400 Bad Request', 'framing must be advance or classic'),
  badFps: r('bad_fps', '400 Bad Request', `fps must be a whole number from ${LIMITS.fps.min} to ${LIMITS.fps.max}`),
  badWidth: r('bad_width', '400 Bad Request', `width must be a whole number from ${LIMITS.renditionWidth.min} to ${LIMITS.renditionWidth.max}`),
  redisDown: r('redis_down', '503 Service Unavailable', 'Redis does not answer', 1),
  corsOff: r('cors_off', '405 Method Not Allowed', 'CORS is not enabled for this origin'),
  notFound: r('not_found', '404 Not Found', 'not found'),
  internal: r('internal', '500 Internal Server Error', 'internal error'),
  noSuchCamera: (camera: string): HttpRefusal => r('no_such_camera', '404 Not Found', `no such camera: ${JSON.stringify(camera.slice(0, 64))}`),
  noLiveFrame: (camera: string): HttpRefusal =>
    r('no_live_frame', '503 Service Unavailable', `camera ${camera} has no live frame (capture stopped or not started)`, 1),
  wrongMethod: (method: string): HttpRefusal => r('wrong_method', '405 Method Not Allowed', `${method.slice(0, 16)} is not allowed here; use GET`),

  // On an open /ws only (the camera is in the message's "camera" field, so the texts need not name it).
  notJson: ws(
    'not_json',
    'messages must be JSON: {"subscribe":"<camera>","fps":N,"width":W,"ack":true,"adapt":true}, {"ack":"<camera>"} or {"unsubscribe":"<camera>"}',
  ),
  notObject: ws('not_object', 'expected a JSON object'),
  binary: ws('binary', 'send commands as text'),
  badCamera: (rule: string): Refusal => ws('bad_camera', `camera must be ${rule}`),
  badFlag: ws('bad_flag', 'ack and adapt must be true or false'),
  adaptNeedsAck: ws('adapt_needs_ack', 'adapt needs ack: true'),
  tooManyCameras: (max: number): Refusal => ws('too_many_cameras', `at most ${max} cameras per socket`),
  cameraNotAllowed: ws('camera_not_allowed', 'not allowed'),
  unknownCamera: ws('no_such_camera', 'no such camera'),
  nothingToAck: ws('nothing_to_ack', 'nothing to acknowledge (subscribe with "ack":true)'),
  commandRate: ws('command_rate', `more than ${WS_COMMANDS_PER_SECOND} commands a second; socket closed`),
  /** Not a refused command: the camera's capture has gone for good (counted in camfan_cameras_gone_total). */
  cameraGone: ws('camera_gone', 'camera gone'),
} as const;

/** Every entry of the catalogue, functions called with a sample argument (for the README and its test). */
export function catalogue(): Refusal[] {
  return Object.values(REFUSALS).map((v) => (typeof v === 'function' ? (v as (a: never) => Refusal)('x' as never) : v));
}

/** Refusals made, by code (camfan_requests_refused_total{reason}, /api/stats "refused"). */
export class RefusalCounts {
  private readonly byCode = new Map<string, number>(catalogue().map((c) => [c.code, 0]));

  count(refusal: Refusal): void {
    this.byCode.set(refusal.code, (this.byCode.get(refusal.code) ?? 0) + 1);
  }

  get(code: string): number {
    return this.byCode.get(code) ?? 0;
  }

  /** Every code, made or not, except camera_gone (not a refusal of anything asked). */
  all(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [code, n] of this.byCode) if (code !== REFUSALS.cameraGone.code) out[code] = n;
    return out;
  }
}
