/**
 * Small raw clients for the hardening tests: an HTTP request with any Host header and source address
 * (node:http lets a test set both; fetch does not), a stream held open, and a WebSocket handshake that
 * reports a refusal's status and headers.
 */
import http from 'node:http';
import WebSocket from 'ws';

export interface ProbeOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Source address, e.g. 127.0.0.12: several "clients" on one machine. */
  localAddress?: string;
  timeoutMs?: number;
}

export interface ProbeResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection; the body is read to its end (not for streams: see holdStream). */
export function probe(url: string, o: ProbeOptions = {}): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: o.method ?? 'GET', headers: o.headers, agent: false, ...(o.localAddress ? { localAddress: o.localAddress } : {}) },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(o.timeoutMs ?? 5000, () => req.destroy(new Error(`no answer within ${o.timeoutMs ?? 5000} ms`)));
    req.end();
  });
}

export interface HeldStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  close(): void;
}

/** Opens a (stream) response and keeps it open until close(); resolves once the status line is in. */
export function holdStream(url: string, o: ProbeOptions = {}): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: o.headers, agent: false, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }, (res) => {
      res.on('data', () => undefined);
      res.on('error', () => undefined);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.setTimeout(o.timeoutMs ?? 5000, () => req.destroy(new Error('no status line')));
  });
}

export type Handshake = { open: true; ws: WebSocket } | { open: false; status: number; headers: http.IncomingHttpHeaders; body: string };

/** A WebSocket handshake; a refusal resolves with its status, headers and body instead of throwing. */
export function wsHandshake(url: string, o: ProbeOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: o.headers, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    ws.once('open', () => resolve({ open: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
}
