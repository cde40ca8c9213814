/**
 * Same bytes, checked: before a run that compares camfan with the C baseline, both serve a few seconds of
 * frames to one reader each, and every part both sent for the same frame (same X-Timestamp) is compared
 * byte for byte. The gateway and the baseline run at once only here, for this check, never while measuring.
 */
import { connect } from 'node:net';
import type { Server } from './stack.js';

export interface SameBytes {
  compared: number;
  identical: number;
  /** Start of the first differing part of each server, when any differ. */
  firstDifference: { camfan: string; baseline: string } | null;
}

/** Collects whole classic parts by X-Timestamp for up to `ms`. */
function collectParts(port: number, path: string, ms: number): Promise<Map<string, Buffer>> {
  const parts = new Map<string, Buffer>();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: camfan-bench\r\n\r\n`));
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const start = buf.indexOf('--camfanframe\r\n');
        const headEnd = start < 0 ? -1 : buf.indexOf('\r\n\r\n', start);
        if (headEnd < 0) return;
        const head = buf.toString('latin1', start, headEnd);
        const length = Number(/Content-Length: (\d+)/.exec(head)?.[1] ?? NaN);
        const end = headEnd + 4 + length + 2;
        if (!Number.isFinite(length) || buf.length < end) return;
        parts.set(/X-Timestamp: ([\d.]+)/.exec(head)?.[1] ?? '', Buffer.from(buf.subarray(start, end)));
        buf = buf.subarray(end);
      }
    });
    socket.on('error', () => undefined);
    setTimeout(() => {
      socket.destroy();
      resolve(parts);
    }, ms);
  });
}

export async function compareParts(camfan: Server, baseline: Server, ms = 2000): Promise<SameBytes> {
  const [a, b] = await Promise.all([collectParts(camfan.target.port, camfan.target.path, ms), collectParts(baseline.target.port, baseline.target.path, ms)]);
  const out: SameBytes = { compared: 0, identical: 0, firstDifference: null };
  for (const [ts, part] of a) {
    const other = b.get(ts);
    if (!other) continue;
    out.compared++;
    if (part.equals(other)) out.identical++;
    else out.firstDifference ??= { camfan: part.toString('latin1', 0, 200), baseline: other.toString('latin1', 0, 200) };
  }
  return out;
}
