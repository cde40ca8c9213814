/**
 * Every refusal the gateway answers with, in one place (as fastify's lib/errors.js): its status line, its
 * one-line text, and how soon to retry. HTTP routes and the /ws handshake send them the same way
 * (respond.ts: refuse); a refused /ws subscription carries the same text in {"error":…}.
 */
import { LIMITS } from '../../lib/ids.js';

export interface Refusal {
  status: string;
  text: string;
  /** Seconds: sent as Retry-After. */
  retryAfter?: number;
}

const r = (status: string, text: string, retryAfter?: number): Refusal => (retryAfter === undefined ? { status, text } : { status, text, retryAfter });

export const REFUSALS = {
  credentials: r('401 Unauthorized', 'credentials required'),
  host: r('421 Misdirected Request', 'this gateway does not answer to that host name (ALLOWED_HOSTS)'),
  origin: r('403 Forbidden', 'origin not allowed (same origin or CORS_ORIGINS only)'),
  operatorAddress: r('403 Forbidden', 'operator data answers loopback and private addresses only; set OPERATOR_TOKEN to reach it from elsewhere'),
  saturated: r('503 Service Unavailable', 'this gateway is at capacity; try another', 5),
  maxViewers: r('503 Service Unavailable', 'this gateway serves its maximum number of viewers', 5),
  maxViewersPerIp: r('429 Too Many Requests', 'too many viewers from your address', 5),
  badFraming: r('400 Bad Request', 'framing must be advance or classic'),
  badFps: r('400 Bad Request', `fps must be a whole number from ${LIMITS.fps.min} to ${LIMITS.fps.max}`),
  badWidth: r('400 Bad Request', `width must be a whole number from ${LIMITS.renditionWidth.min} to ${LIMITS.renditionWidth.max}`),
  redisDown: r('503 Service Unavailable', 'Redis does not answer', 1),
  corsOff: r('405 Method Not Allowed', 'CORS is not enabled for this origin'),
  notFound: r('404 Not Found', 'not found'),
  internal: r('500 Internal Server Error', 'internal error'),
  noSuchCamera: (camera: string): Refusal => r('404 Not Found', `no such camera: ${JSON.stringify(camera.slice(0, 64))}`),
  noLiveFrame: (camera: string): Refusal => r('503 Service Unavailable', `camera ${camera} has no live frame (capture stopped or not started)`, 1),
  wrongMethod: (method: string): Refusal => r('405 Method Not Allowed', `${method.slice(0, 16)} is not allowed here; use GET`),
} as const;
