/**
 * The page's one WebSocket to /ws (gateway/http/ws-protocol.ts). The page says which cameras it wants and how
 * (want()); this keeps the gateway's subscriptions equal to that, across reconnects (jittered backoff up to
 * 5 s, so that thousands of pages that lost one gateway do not all come back in the same instant) and
 * moves (a gateway about to shut down says "move": a new socket opens first, the old one closes after),
 * and acknowledges each frame once the page has drawn or dropped it ("ack": the gateway then never has more
 * than two frames of a camera on the way, so a slow link gets fewer, fresh frames instead of a queue).
 */
import { decodeMessage, type WireFrame } from './wire.js';

/** How a camera is wanted: width undefined = the camera's own size; fps undefined = its full rate. */
export interface Wanted {
  width?: number | undefined;
  fps?: number | undefined;
}

export interface SocketEvents {
  frame(f: WireFrame): void;
  /** The socket opened (true) or closed (false). */
  connection(up: boolean): void;
  /** The gateway refused a command or ended a subscription: its stable code (gateway/http/refusals.ts) and its text for people. */
  error(code: string, message: string, camera: string | undefined): void;
}

/** The wait before reconnecting: the backoff, spread over ±50 % so that reconnects do not come in a wave. */
export function reconnectDelayMs(backoffMs: number, random: () => number = Math.random): number {
  return Math.round(backoffMs * (0.5 + random()));
}

export class FrameSocket {
  /** Counters the tests (and curious users, in the console) read: what reached the page. */
  readonly stats = { bytes: 0, messages: 0, connects: 0 };
  /** The subscribe message last sent per camera (JSON), as the gateway sees it. */
  readonly sent = new Map<string, string>();
  private readonly wanted = new Map<string, Wanted>();
  private ws: WebSocket | null = null;
  private backoffMs = 500;
  up = false;

  constructor(private readonly on: SocketEvents) {}

  /** Opens a socket; the one it replaces (a move) is closed once this one is open. */
  connect(replacing: WebSocket | null = null): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      replacing?.close();
      this.backoffMs = 500;
      this.up = true;
      this.stats.connects++;
      this.sent.clear();
      for (const [camera, w] of this.wanted) this.subscribe(camera, w);
      this.on.connection(true);
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === 'string') return this.onText(ws, e.data);
      const buf = e.data as ArrayBuffer;
      this.stats.bytes += buf.byteLength;
      this.stats.messages++;
      const f = decodeMessage(buf);
      if (f && this.sent.has(f.camera)) this.on.frame(f);
    };
    ws.onclose = () => {
      // A socket that was replaced (moved from) ends quietly: its successor carries on.
      if (ws !== this.ws) return;
      const wasUp = this.up;
      this.up = false;
      this.sent.clear();
      if (wasUp || this.stats.connects === 0) this.on.connection(false);
      setTimeout(() => this.connect(), reconnectDelayMs(this.backoffMs));
      this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    };
  }

  /** Wants a camera (or, with null, no longer). Sends only what changed. */
  want(camera: string, w: Wanted | null): void {
    if (w === null) {
      this.wanted.delete(camera);
      if (this.sent.delete(camera)) this.send({ unsubscribe: camera });
      return;
    }
    this.wanted.set(camera, w);
    if (this.up) this.subscribe(camera, w);
  }

  /**
   * The gateway no longer has this subscription (it refused it, or the camera went): the next want()
   * subscribes again. An unsubscribe is sent in case the gateway still has it (renewing a silent one).
   */
  forget(camera: string): void {
    if (this.sent.delete(camera)) this.send({ unsubscribe: camera });
  }

  /** The page drew (or dropped) a frame of this camera. */
  ack(camera: string): void {
    if (this.sent.has(camera)) this.send({ ack: camera });
  }

  private subscribe(camera: string, w: Wanted): void {
    const msg = JSON.stringify({ subscribe: camera, ack: true, adapt: true, ...(w.width ? { width: w.width } : {}), ...(w.fps ? { fps: w.fps } : {}) });
    const before = this.sent.get(camera);
    if (before === msg) return;
    // The protocol has no "change": a new size or rate is a new subscription.
    if (before !== undefined) this.send({ unsubscribe: camera });
    this.sent.set(camera, msg);
    this.ws!.send(msg);
  }

  private send(body: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(body));
  }

  private onText(ws: WebSocket, text: string): void {
    try {
      const m = JSON.parse(text) as { error?: string; code?: string; camera?: string; move?: string };
      if (m.move !== undefined && ws === this.ws) return this.connect(ws);
      if (m.error) this.on.error(m.code ?? '', m.error, m.camera);
    } catch {
      /* not ours to judge: the gateway only sends JSON */
    }
  }
}
