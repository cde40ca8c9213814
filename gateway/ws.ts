/**
 * WebSocket delivery at /ws, for pages that show more cameras than a browser's ~6 HTTP/1.1 connections
 * per host allow as <img> streams. One socket carries any number of cameras:
 *   client -> server (text): {"subscribe":"cam0","fps":10} | {"unsubscribe":"cam0"}
 *   server -> client (binary): one frame per message, in the bus wire format of bus/frame.ts
 *   server -> client (text): {"error":"…","camera":"…"} for a refused subscription
 * Latest frame wins per camera and socket: while the socket has unsent data, a camera keeps only its
 * newest frame pending and sends it when the socket drains.
 */
import type { Logger } from '../lib/log.js';
import { Pacer } from '../lib/pacer.js';
import { CAMERA_ID_RE } from '../lib/settings.js';
import { readClient, readCredentials, type Access, type Credentials } from './access.js';
import type { CameraHub, Sink } from './cameras.js';
import type { FramePacket } from './mjpeg.js';
import type { DeliveryObserver } from './mjpeg.js';
import type { TemplatedApp, WebSocket } from './uws.js';

const MAX_CAMERAS_PER_SOCKET = 64;
const MAX_FPS = 120;

interface SocketState {
  sinks: Map<string, WsSink>;
  open: boolean;
  remote: string;
  creds: Credentials;
}

class WsSink implements Sink {
  delivered = 0;
  dropped = 0;
  capped = 0;
  bytes = 0;
  private pending: FramePacket | null = null;
  private lastTimestamp = -Infinity;
  private readonly cap: Pacer | null;
  private ended = false;

  constructor(
    private readonly ws: WebSocket<SocketState>,
    readonly camera: string,
    private readonly maxFps: number | null,
    private readonly onDelivered: DeliveryObserver,
  ) {
    this.cap = maxFps ? new Pacer(maxFps) : null;
  }

  get closed(): boolean {
    return this.ended || !this.ws.getUserData().open;
  }

  offer(packet: FramePacket): void {
    if (this.closed || (!packet.placeholder && packet.frame.timestamp <= this.lastTimestamp)) return;
    if (this.cap && !this.cap.take()) {
      this.capped++;
      return;
    }
    if (!packet.placeholder) this.lastTimestamp = packet.frame.timestamp;
    if (this.ws.getBufferedAmount() > 0) {
      if (this.pending) this.dropped++;
      this.pending = packet;
      return;
    }
    this.send(packet);
  }

  /** The socket drained: send this camera's pending frame if the socket is free. */
  drain(): void {
    const next = this.pending;
    if (!next || this.closed || this.ws.getBufferedAmount() > 0) return;
    this.pending = null;
    this.send(next);
  }

  private send(packet: FramePacket): void {
    const msg = packet.message();
    // 1: sent, 0: queued in uWS (at most this one frame, since we only send on an empty buffer), 2: dropped.
    const status = this.ws.send(msg, true, false);
    if (status === 2) {
      this.dropped++;
      return;
    }
    this.delivered++;
    this.bytes += msg.length;
    this.onDelivered(packet.frame.timestamp);
  }

  blockedFor(): number {
    return 0; // uWS closes a WebSocket that stops answering pings (idleTimeout)
  }

  end(): void {
    this.ended = true;
    this.pending = null;
    const state = this.ws.getUserData();
    if (state.open) {
      state.open = false;
      this.ws.end(1001, 'server going away');
    }
  }

  close(): void {
    this.end();
  }

  snapshot(): Record<string, unknown> {
    return { camera: this.camera, remote: this.ws.getUserData().remote, transport: 'websocket', maxFps: this.maxFps, delivered: this.delivered, dropped: this.dropped, capped: this.capped };
  }

  unsubscribe(): void {
    this.ended = true;
    this.pending = null;
  }
}

type Command = { subscribe: string; fps?: number } | { unsubscribe: string };

function parseCommand(message: ArrayBuffer): Command | string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(message).toString('utf8'));
  } catch {
    return 'messages must be JSON: {"subscribe":"<camera>","fps":N} or {"unsubscribe":"<camera>"}';
  }
  if (typeof value !== 'object' || value === null) return 'expected a JSON object';
  const v = value as Record<string, unknown>;
  const camera = v.subscribe ?? v.unsubscribe;
  if (typeof camera !== 'string' || !CAMERA_ID_RE.test(camera)) return 'camera must be 1 to 64 characters from A-Z a-z 0-9 _ -';
  if (v.fps !== undefined && !(Number.isInteger(v.fps) && (v.fps as number) >= 1 && (v.fps as number) <= MAX_FPS)) return `fps must be a whole number from 1 to ${MAX_FPS}`;
  return v.subscribe !== undefined ? { subscribe: camera, ...(v.fps !== undefined ? { fps: v.fps as number } : {}) } : { unsubscribe: camera };
}

export function installWebSocket(app: TemplatedApp, hub: CameraHub, access: Access, log: Logger, onDelivered: DeliveryObserver): void {
  const reply = (ws: WebSocket<SocketState>, body: Record<string, unknown>): void => {
    if (ws.getUserData().open) ws.send(JSON.stringify(body), false);
  };

  const subscribe = async (ws: WebSocket<SocketState>, camera: string, fps: number | undefined): Promise<void> => {
    const state = ws.getUserData();
    if (state.sinks.has(camera)) return;
    if (state.sinks.size >= MAX_CAMERAS_PER_SOCKET) return reply(ws, { error: `at most ${MAX_CAMERAS_PER_SOCKET} cameras per socket`, camera });
    if (!access.allows(state.creds, camera)) return reply(ws, { error: 'not allowed', camera });
    if (!(await hub.isKnown(camera))) return reply(ws, { error: 'no such camera', camera });
    if (!state.open || state.sinks.has(camera)) return;
    const sink = new WsSink(ws, camera, fps ?? null, onDelivered);
    state.sinks.set(camera, sink);
    await hub.watch(sink);
  };

  const unsubscribe = (state: SocketState, camera: string): void => {
    const sink = state.sinks.get(camera);
    if (!sink) return;
    state.sinks.delete(camera);
    sink.unsubscribe();
    hub.unwatch(sink);
  };

  app.ws<SocketState>('/ws', {
    maxPayloadLength: 4096,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    // We never queue more than one frame per camera ourselves; this only bounds the worst case.
    maxBackpressure: 16 * 1024 * 1024,
    upgrade: (res, req, context) => {
      const creds = readCredentials(req);
      const remote = readClient(res, req, access.trusted).address;
      const host = req.getHeader('host');
      const origin = req.getHeader('origin');
      // The same headers as the HTTP refusals (http.ts): nosniff always, the challenge on a 401.
      const refuse = (status: string, text: string, extra: ReadonlyArray<readonly [string, string]> = []): void => {
        res.cork(() => {
          res.writeStatus(status).writeHeader('Content-Type', 'text/plain; charset=utf-8').writeHeader('Cache-Control', 'no-store').writeHeader('X-Content-Type-Options', 'nosniff');
          for (const [k, v] of extra) res.writeHeader(k, v);
          res.end(`${text}\n`);
        });
      };
      if (!access.hostAllowed(host)) return refuse('421 Misdirected Request', 'this gateway does not answer to that host name (ALLOWED_HOSTS)');
      // Cross-site WebSocket hijacking: a page elsewhere must not ride this browser's cookie or address.
      if (!access.webSocketOriginAllowed(origin, host)) {
        // Counted always (camfan_requests_refused_total{reason="origin"}); logged at the first and every 100th.
        const n = access.refused.origin;
        if (n === 1 || n % 100 === 0) log.info({ origin: origin.slice(0, 200), remote, refused: n }, 'websocket refused: origin not allowed');
        return refuse('403 Forbidden', 'origin not allowed (same origin or CORS_ORIGINS only)');
      }
      if (!access.allows(creds)) {
        access.refuseAuth();
        return refuse('401 Unauthorized', 'credentials required', access.challenge());
      }
      const admission = access.admit(remote);
      if (admission === 'max_viewers') return refuse('503 Service Unavailable', 'this gateway serves its maximum number of viewers', [['Retry-After', '5']]);
      if (admission === 'max_viewers_per_ip') return refuse('429 Too Many Requests', 'too many connections from your address', [['Retry-After', '5']]);
      const state: SocketState = { sinks: new Map(), open: true, remote, creds };
      res.upgrade(state, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    message: (ws, message, isBinary) => {
      const cmd = isBinary ? 'send commands as text' : parseCommand(message);
      if (typeof cmd === 'string') return reply(ws, { error: cmd });
      if ('subscribe' in cmd) {
        subscribe(ws, cmd.subscribe, cmd.fps).catch((err: Error) => log.error({ err: err.message }, 'websocket subscribe failed'));
      } else {
        unsubscribe(ws.getUserData(), cmd.unsubscribe);
      }
    },
    drain: (ws) => {
      for (const sink of ws.getUserData().sinks.values()) sink.drain();
    },
    close: (ws) => {
      const state = ws.getUserData();
      state.open = false;
      access.release(state.remote);
      for (const camera of [...state.sinks.keys()]) unsubscribe(state, camera);
    },
  });
}
