/**
 * A /ws viewer for tests: subscribes to one camera, decodes frames (bus wire format), optionally
 * acknowledges each one as a page does after drawing it, and optionally reads its socket at most
 * `readBytesPerSecond` (a slow link; the kernel's buffers in between keep their default sizes).
 */
import WebSocket from 'ws';
import { decodeFrame, type Frame } from '../bus/frame.js';

export interface WsViewerOptions {
  subscribe: Record<string, unknown> & { subscribe: string };
  readBytesPerSecond?: number;
  onFrame?: (frame: Frame, receivedAt: number) => void;
}

export interface WsTestViewer {
  ws: WebSocket;
  texts: Array<Record<string, unknown>>;
  frames: number;
  /** Stops acknowledging (a page whose drawing stalled): frames received meanwhile are acknowledged on resume. */
  pauseAcks(): void;
  resumeAcks(): void;
  close(): void;
}

export async function openWsViewer(base: string, o: WsViewerOptions): Promise<WsTestViewer> {
  const ws = new WebSocket(`${base.replace('http://', 'ws://')}/ws`);
  const camera = o.subscribe.subscribe;
  let paused = false;
  let held = 0;
  const ack = (): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ ack: camera }));
  };
  const v: WsTestViewer = {
    ws,
    texts: [],
    frames: 0,
    pauseAcks: () => {
      paused = true;
    },
    resumeAcks: () => {
      paused = false;
      for (; held > 0; held--) ack();
    },
    close: () => ws.terminate(),
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return void v.texts.push(JSON.parse(data.toString()) as Record<string, unknown>);
    const frame = decodeFrame(Buffer.from(data));
    v.frames++;
    o.onFrame?.(frame, Date.now());
    if (o.subscribe.ack !== true) return;
    if (paused) held++;
    else ack();
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (o.readBytesPerSecond) throttle(ws, o.readBytesPerSecond);
  ws.send(JSON.stringify(o.subscribe));
  return v;
}

/** Pauses the socket so that on average at most `rate` bytes a second are read. */
function throttle(ws: WebSocket, rate: number): void {
  const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  let budget = 0;
  let last = performance.now();
  socket.on('data', (chunk: Buffer) => {
    const now = performance.now();
    budget = Math.min(budget + ((now - last) / 1000) * rate, rate / 10) - chunk.length;
    last = now;
    if (budget < 0 && !socket.isPaused()) {
      socket.pause();
      setTimeout(() => socket.resume(), (-budget / rate) * 1000);
    }
  });
}

export interface SlowViewerResult {
  ageP50: number;
  ageP90: number;
  fps: number;
  bytesPerSecond: number;
  widths: number[];
}

/** One /ws viewer reading at `rate` bytes/s: frame ages (capture to receipt), rate and sizes over a window. */
export async function measureSlowWsViewer(
  base: string,
  subscribe: WsViewerOptions['subscribe'],
  rate: number,
  warmupMs: number,
  windowMs: number,
): Promise<SlowViewerResult> {
  const ages: number[] = [];
  const widths = new Set<number>();
  let bytes = 0;
  let measuring = false;
  const v = await openWsViewer(base, {
    subscribe,
    readBytesPerSecond: rate,
    onFrame: (frame, at) => {
      if (!measuring) return;
      ages.push(at - frame.timestamp);
      widths.add(frame.width);
      bytes += frame.jpeg.length;
    },
  });
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  await new Promise((r) => setTimeout(r, windowMs));
  measuring = false;
  v.close();
  const sorted = ages.sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
  return {
    ageP50: at(50),
    ageP90: at(90),
    fps: ages.length / (windowMs / 1000),
    bytesPerSecond: bytes / (windowMs / 1000),
    widths: [...widths].sort((a, b) => a - b),
  };
}
