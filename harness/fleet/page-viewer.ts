/**
 * A viewer that follows the page's /ws rules (gateway/page/client/socket.ts), in Node, for the fleet bench:
 * /ws?beat=1, one camera with acknowledgements, a socket silent past lib/wire/liveness.mts's limit dropped
 * and replaced, a closed one reconnected after the same jittered backoff, and {"move"} answered by opening
 * the new socket first and closing the old one once the new one is open. It logs when frames arrived, when
 * it had to reconnect and which handshakes were refused, for the bench to measure gaps from.
 */
import WebSocket from 'ws';
import { reconnectDelayMs, silentLimitMs } from '../../lib/wire/liveness.mjs';

export interface ViewerLog {
  /** Arrival of each frame (ms, wall clock). */
  frames: number[];
  /** When a socket was lost (closed, or dropped as silent) and a new one had to be made. */
  reconnects: number[];
  /** When the gateway said move. */
  moves: number[];
  /** When each socket was opened (a reconnect's own time, after its jittered delay). */
  opens: number[];
  /** Handshakes refused (HTTP status instead of 101), by status. */
  refused: Record<string, number>;
}

const GAPS_KEPT = 8;

export function newViewerLog(): ViewerLog {
  return { frames: [], reconnects: [], moves: [], opens: [], refused: {} };
}

/** Starts one viewer of `camera` at ws://host:port/ws; returns its stop(). */
export function pageViewer(host: string, port: number, camera: string, log: ViewerLog): () => void {
  let current: WebSocket | null = null;
  let backoffMs = 500;
  let lastMessageAt = 0;
  const gaps: number[] = [];
  let stopped = false;

  const lost = (): void => {
    current = null;
    log.reconnects.push(Date.now());
    setTimeout(open, reconnectDelayMs(backoffMs));
    backoffMs = Math.min(backoffMs * 2, 5000);
  };
  const heard = (ws: WebSocket): void => {
    if (ws !== current) return;
    const now = Date.now();
    if (gaps.push(now - lastMessageAt) > GAPS_KEPT) gaps.shift();
    lastMessageAt = now;
  };
  function open(replacing: WebSocket | null = null): void {
    if (stopped) return;
    const ws = new WebSocket(`ws://${host}:${port}/ws?beat=1`);
    log.opens.push(Date.now());
    current = ws;
    gaps.length = 0;
    lastMessageAt = Date.now();
    ws.on('unexpected-response', (_req, res) => {
      const status = String(res.statusCode);
      log.refused[status] = (log.refused[status] ?? 0) + 1;
      ws.terminate();
    });
    ws.on('open', () => {
      replacing?.close();
      backoffMs = 500;
      ws.send(JSON.stringify({ subscribe: camera, ack: true }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      heard(ws);
      if (isBinary) {
        // A socket being moved from still delivers until its successor is open: the page draws both.
        log.frames.push(Date.now());
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ ack: camera }));
        return;
      }
      const m = JSON.parse(data.toString()) as { move?: string };
      if (m.move !== undefined && ws === current) {
        log.moves.push(Date.now());
        open(ws);
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (ws === current && !stopped) lost();
    });
  }
  const watchdog = setInterval(() => {
    const ws = current;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastMessageAt <= silentLimitMs(gaps.slice(1))) return;
    lost();
    ws.terminate();
  }, 200);
  open();
  return () => {
    stopped = true;
    clearInterval(watchdog);
    current?.terminate();
  };
}
