/**
 * The page's one WebSocket to /ws (gateway/http/ws-protocol.ts). The page says which cameras it wants and how
 * (want()); this keeps the gateway's subscriptions equal to that, across reconnects (jittered backoff up to
 * 5 s, so that thousands of pages that lost one gateway do not all come back in the same instant) and
 * moves (a gateway about to shut down says "move": a new socket opens first, the old one closes after),
 * and acknowledges each frame once the page has drawn or dropped it ("ack": the gateway then never has more
 * than two frames of a camera on the way, so a slow link gets fewer, fresh frames instead of a queue).
 * A socket that goes silent (its gateway host died: no close ever comes) is dropped and replaced
 * (liveness.mts: the gateway beats on an idle socket).
 */
import { reconnectDelayMs, silentLimitMs } from './liveness.mjs';
import { decodeMessage, type WireFrame } from './wire.js';

export { reconnectDelayMs };

/** Gaps between messages kept to judge silence by: a few seconds of frames or beats. */
const GAPS_KEPT = 8;

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

export class FrameSocket {
  /** Counters the tests (and curious users, in the console) read: what reached the page. */
  readonly stats = { bytes: 0, messages: 0, connects: 0, silentDrops: 0 };
  /** The subscribe message last sent per camera (JSON), as the gateway sees it. */
  readonly sent = new Map<string, string>();
  private readonly wanted = new Map<string, Wanted>();
  private ws: WebSocket | null = null;
  private backoffMs = 500;
  private lastMessageAt = 0;
  private readonly gaps: number[] = [];
  up = false;

  constructor(private readonly on: SocketEvents) {
    setInterval(() => this.dropIfSilent(), 200);
  }

  /** Opens a socket; the one it replaces (a move) is closed once this one is open. */
  connect(replacing: WebSocket | null = null): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws?beat=1`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.gaps.length = 0;
    this.lastMessageAt = Date.now();
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
      if (ws === this.ws) this.heard();
      if (typeof e.data === 'string') return this.onText(ws, e.data);
      const buf = e.data as ArrayBuffer;
      this.stats.bytes += buf.byteLength;
      this.stats.messages++;
      const f = decodeMessage(buf);
      if (f && this.sent.has(f.camera)) this.on.frame(f);
    };
    ws.onclose = () => {
      // A socket that was replaced (moved from, or dropped as silent) ends quietly: its successor carries on.
      if (ws === this.ws) this.lost();
    };
  }

  /** The socket is gone: say so, and connect again after a jittered backoff. */
  private lost(): void {
    this.ws = null;
    const wasUp = this.up;
    this.up = false;
    this.sent.clear();
    if (wasUp || this.stats.connects === 0) this.on.connection(false);
    setTimeout(() => this.connect(), reconnectDelayMs(this.backoffMs));
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
  }

  private heard(): void {
    const now = Date.now();
    if (this.gaps.push(now - this.lastMessageAt) > GAPS_KEPT) this.gaps.shift();
    this.lastMessageAt = now;
  }

  /** No frame and no beat for longer than this socket's limit: its gateway is gone without a word. */
  private dropIfSilent(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    // The gap from the open to the first message is the handshake's, not the link's: judge from the second on.
    if (Date.now() - this.lastMessageAt <= silentLimitMs(this.gaps.slice(1))) return;
    this.stats.silentDrops++;
    this.lost();
    ws.close();
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
