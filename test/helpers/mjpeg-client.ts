/**
 * A real MJPEG client over node:http for tests and the load generator. It parses both framings by
 * Buffer.indexOf (never per byte), checks every part (SOI/EOI, Content-Length), and records when each
 * part's last byte arrived. readBytesPerSecond throttles it to imitate a slow viewer.
 */
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import { isJpeg } from '../../bus/frame.js';
import { readCommentTimestamp } from '../../gateway/packet.js';

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

const CRLF2 = Buffer.from('\r\n\r\n');

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function openStream(url: string, opts: StreamOptions = {}): StreamClient {
  const boundary = Buffer.from('--camfanframe');
  const delimiter = Buffer.from('\r\n--camfanframe');
  let buf: Buffer = Buffer.alloc(0);
  const client: StreamClient = {
    status: null as never,
    parts: [],
    count: 0,
    invalid: [],
    connectedAt: now(),
    firstPartAt: null,
    closed: null as never,
    leftover: () => buf.length,
    close: () => req.destroy(),
  };
  const emit = (headers: Record<string, string>, jpeg: Buffer): void => {
    const receivedAt = now();
    if (!isJpeg(jpeg)) client.invalid.push(`part ${client.count}: not a whole JPEG (${jpeg.length} bytes)`);
    const xts = headers['x-timestamp'];
    const timestamp = xts ? Number(xts) * 1000 : readCommentTimestamp(jpeg);
    const m = jpeg[2] === 0xff && jpeg[3] === 0xfe ? / seq=(\d+)/.exec(jpeg.toString('latin1', 6, 6 + jpeg.readUInt16BE(4))) : null;
    const part: Part = { headers, jpeg, receivedAt, timestamp, seq: m ? Number(m[1]) : null };
    client.count++;
    client.firstPartAt ??= receivedAt;
    if (opts.keepParts !== false) client.parts.push(part);
    opts.onPart?.(part);
  };
  /** Consumes as many whole parts as the buffer holds. */
  const parse = (): void => {
    for (;;) {
      const start = buf.indexOf(boundary);
      if (start < 0) return;
      const headEnd = buf.indexOf(CRLF2, start);
      if (headEnd < 0) return;
      const headers: Record<string, string> = {};
      for (const line of buf.toString('latin1', start + boundary.length, headEnd).split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const bodyStart = headEnd + 4;
      const length = headers['content-length'];
      if (length !== undefined) {
        const n = Number(length);
        if (buf.length < bodyStart + n + 2) return;
        if (buf[bodyStart + n] !== 0x0d || buf[bodyStart + n + 1] !== 0x0a) client.invalid.push(`part ${client.count}: Content-Length ${n} does not end at CRLF`);
        emit(headers, Buffer.from(buf.subarray(bodyStart, bodyStart + n)));
        buf = buf.subarray(bodyStart + n + 2);
      } else {
        const end = buf.indexOf(delimiter, bodyStart);
        if (end < 0) return;
        emit(headers, Buffer.from(buf.subarray(bodyStart, end)));
        buf = buf.subarray(end + 2);
      }
    }
  };
  const headers = { 'user-agent': opts.userAgent ?? 'camfan-test', ...opts.headers };
  const req = url.startsWith('https:') ? https.get(url, { headers, ...(opts.ca ? { ca: opts.ca } : {}) }) : http.get(url, { headers });
  client.status = new Promise((resolve, reject) => {
    req.once('response', (res) => {
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers });
      if (opts.readBytesPerSecond) throttle(res, opts.readBytesPerSecond);
      res.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        parse();
      });
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
