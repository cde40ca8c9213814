/** How the gateway answers: the headers every response carries, plain and JSON bodies (refusals: refuser.ts). */
import { STREAM_CONTENT_TYPE } from '../delivery/packet.js';
import type { HttpResponse } from './uws.js';

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
