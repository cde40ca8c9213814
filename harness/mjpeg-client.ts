/**
 * A real MJPEG client over node:http for tests. Parts are read and checked by mjpeg-parts.ts (both
 * framings; SOI/EOI, Content-Length, boundary), the reader the Node load client shares; this records when
 * each part's last byte arrived. readBytesPerSecond throttles it to imitate a slow viewer.
 */
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import { MjpegPartReader } from './mjpeg-parts.js';

export interface Part {
  headers: Record<string, string>;
  jpeg: Buffer;
  /** ms since the epoch when the last byte of the part arrived */
  receivedAt: number;
  /** capture time (ms since the epoch), from X-Timestamp or the JPEG comment */
  timestamp: number | null;
  seq: number | null;
}

export interface StreamOptions {
  userAgent?: string;
  headers?: Record<string, string>;
  /** For https:// URLs: the certificate authority to trust (a test's self-signed certificate). */
  ca?: Buffer;
  keepParts?: boolean;
  readBytesPerSecond?: number;
  onPart?: (part: Part) => void;
}

export interface StreamClient {
  status: Promise<{ statusCode: number; headers: http.IncomingHttpHeaders }>;
  parts: Part[];
  count: number;
  invalid: string[];
  connectedAt: number;
  firstPartAt: number | null;
  closed: Promise<void>;
  /** Bytes received but not part of a whole part yet (0 when the stream ended at a part boundary). */
  leftover(): number;
  close(): void;
}

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function openStream(url: string, opts: StreamOptions = {}): StreamClient {
  const client: StreamClient = {
    status: null as never,
    parts: [],
    count: 0,
    invalid: [],
    connectedAt: now(),
    firstPartAt: null,
    closed: null as never,
    leftover: () => reader.buffered,
    close: () => req.destroy(),
  };
  const reader = new MjpegPartReader({
    keepBodies: true,
    onInvalid: (reason) => client.invalid.push(reason),
    onPart: ({ headers, jpeg, timestamp, seq }) => {
      const receivedAt = now();
      const part: Part = { headers, jpeg: jpeg!, receivedAt, timestamp, seq };
      client.count++;
      client.firstPartAt ??= receivedAt;
      if (opts.keepParts !== false) client.parts.push(part);
      opts.onPart?.(part);
    },
  });
  const headers = { 'user-agent': opts.userAgent ?? 'camfan-test', ...opts.headers };
  const req = url.startsWith('https:') ? https.get(url, { headers, ...(opts.ca ? { ca: opts.ca } : {}) }) : http.get(url, { headers });
  client.status = new Promise((resolve, reject) => {
    req.once('response', (res) => {
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers });
      if (opts.readBytesPerSecond) throttle(res, opts.readBytesPerSecond);
      res.on('data', (chunk: Buffer) => reader.push(chunk));
    });
    req.once('error', reject);
  });
  client.closed = new Promise((resolve) => req.once('close', () => resolve()));
  client.status.catch(() => undefined);
  return client;
}

/** Pauses the response so that on average at most `rate` bytes per second are read from the socket. */
function throttle(res: http.IncomingMessage, rate: number): void {
  let budget = 0;
  let last = performance.now();
  res.on('data', (chunk: Buffer) => {
    const t = performance.now();
    budget += ((t - last) / 1000) * rate - chunk.length;
    last = t;
    if (budget < 0) {
      res.pause();
      setTimeout(() => res.resume(), (-budget / rate) * 1000);
    }
  });
}

export async function fetchJson<T>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

/**
 * A viewer that reads the response's first bytes and then never again: the kernel's buffers fill and the
 * gateway's part waits behind them. resume() reads again (a paused socket does not notice a close).
 */
export function openStuckViewer(port: number, path: string): { closed: Promise<number>; resume(): void } {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now())));
  sock.once('data', () => sock.pause());
  sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUser-Agent: stuck\r\n\r\n`);
  return { closed, resume: () => sock.resume() };
}
