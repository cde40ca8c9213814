/** How the gateway answers: the headers every response carries, plain and JSON bodies, and refusals. */
import { STREAM_CONTENT_TYPE } from '../delivery/packet.js';
import type { HttpResponse } from './uws.js';
import type { Refusal } from './refusals.js';

export type Headers = ReadonlyArray<readonly [string, string]>;

/** Security headers every response carries. */
export const COMMON_HEADERS: Headers = [['X-Content-Type-Options', 'nosniff']];

export const STREAM_HEADERS: Headers = [
  ['Content-Type', STREAM_CONTENT_TYPE],
  ['Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0'],
  ['Pragma', 'no-cache'],
  // nginx would otherwise buffer the endless response and viewers would see nothing.
  ['X-Accel-Buffering', 'no'],
  ...COMMON_HEADERS,
];

export function send(res: HttpResponse, status: string, contentType: string, body: string | Buffer, extra: Headers = []): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', contentType).writeHeader('Cache-Control', 'no-store');
    for (const [k, v] of [...COMMON_HEADERS, ...extra]) res.writeHeader(k, v);
    res.end(body);
  });
}

export function sendJson(res: HttpResponse, status: string, value: unknown, extra: Headers = []): void {
  send(res, status, 'application/json', JSON.stringify(value), extra);
}

/** A refusal from the catalogue, as a one-line text body (Retry-After when it has one). */
export function refuse(res: HttpResponse, refusal: Refusal, extra: Headers = []): void {
  const retry: Headers = refusal.retryAfter === undefined ? [] : [['Retry-After', String(refusal.retryAfter)]];
  send(res, refusal.status, 'text/plain; charset=utf-8', `${refusal.text}\n`, [...retry, ...extra]);
}
