/**
 * WebSocket delivery at /ws, for pages that show more cameras than a browser's ~6 HTTP/1.1 connections
 * per host allow as <img> streams. One socket carries any number of cameras:
 *   client -> server (text): subscribe, ack, unsubscribe (ws-protocol.ts)
 *   server -> client (binary): one frame per message, in the bus wire format of bus/frame.ts
 *   server -> client (text): {"error":"…","code":"…","camera":"…"} for a refused command (ws-protocol.ts),
 *     {"move":"…"} before a shutdown, and {"beat":1} on an idle socket opened as /ws?beat=1 (ws-heartbeat.ts)
 * Latest frame wins per camera and socket (ws-viewer.ts).
 */
import type { Logger } from '../../lib/log.js';
import { readClient, readCredentials, type Access } from '../access/access.js';
import { admit, Place } from '../access/admit.js';
import type { Capacity } from '../ops/capacity.js';
import type { CameraHub } from '../delivery/hub.js';
import { REFUSALS } from './refusals.js';
import type { Refuser } from './refuser.js';
import type { TemplatedApp, WebSocket } from './uws.js';
import type { DeliveryObserver } from '../delivery/viewer.js';
import { Adaptation } from '../adaptation/adapt.js';
import { snapRendition } from '../adaptation/renditions.js';
import { WsViewer, type SocketState } from '../delivery/ws-viewer.js';
import { MOVE_MESSAGE, parseCommand, type Subscribe } from './ws-protocol.js';
import { startHeartbeat } from './ws-heartbeat.js';
import { CommandBudget } from './ws-budget.js';
import { addDeliveryTime } from '../delivery/delivery-time.js';

const MAX_CAMERAS_PER_SOCKET = 64;
export interface WebSocketOptions {
  hub: CameraHub;
  access: Access;
  capacity: Capacity;
  refuser: Refuser;
  log: Logger;
  observer: DeliveryObserver;
  renditionWidths: readonly number[];
}

/** What shutdown needs of /ws: tell every page to move, then wait for them to go. */
export interface OpenSockets {
  /** Sends the move notice to every open socket; returns how many there are. */
  moveAll(): number;
  /** Resolves when every socket has closed, or after waitMs. */
  gone(waitMs: number): Promise<void>;
}

export function installWebSocket(app: TemplatedApp, o: WebSocketOptions): OpenSockets {
  const { hub, access, refuser, log, observer, renditionWidths } = o;
  const sockets = new Set<WebSocket<SocketState>>();
  startHeartbeat(sockets);

  const subscribe = async (ws: WebSocket<SocketState>, cmd: Subscribe): Promise<void> => {
    const { subscribe: camera, fps } = cmd;
    const state = ws.getUserData();
    if (state.viewers.has(camera)) return;
    if (state.viewers.size >= MAX_CAMERAS_PER_SOCKET) return refuser.ws(ws, REFUSALS.tooManyCameras(MAX_CAMERAS_PER_SOCKET), camera);
    if (!access.allows(state.creds, camera)) return refuser.ws(ws, REFUSALS.cameraNotAllowed, camera);
    if (!(await hub.isKnown(camera))) return refuser.ws(ws, REFUSALS.unknownCamera, camera);
    if (!state.open || state.viewers.has(camera)) return;
    // The socket already holds its viewer's place: a camera added to it is priced against the load only.
    const place = admit(o, { rate: Math.min(fps ?? Infinity, hub.frameRate(camera)) });
    if (!(place instanceof Place)) return refuser.ws(ws, place, camera);
    const cameraWidth = hub.cameraWidth(camera);
    const rendition = cmd.width === undefined ? null : snapRendition(cmd.width, cameraWidth, renditionWidths);
    const viewer = new WsViewer(ws, camera, {
      maxFps: fps ?? null,
      observer,
      remote: state.remote,
      rendition,
      acks: cmd.ack,
      adaptation: cmd.adapt ? new Adaptation() : null,
      ceiling: rendition,
      place,
    });
    state.viewers.set(camera, viewer);
    await hub.watch(viewer);
  };

  const unsubscribe = (state: SocketState, camera: string): void => {
    const viewer = state.viewers.get(camera);
    if (!viewer) return;
    state.viewers.delete(camera);
    viewer.unsubscribe();
    hub.unwatch(viewer);
  };

  /** A socket past its command budget is closed, counted and logged (at the first and every 100th). */
  const overBudget = (ws: WebSocket<SocketState>): void => {
    const state = ws.getUserData();
    refuser.counts.count(REFUSALS.commandRate);
    const n = refuser.counts.get(REFUSALS.commandRate.code);
    if (n === 1 || n % 100 === 0) log.info({ remote: state.remote, cameras: state.viewers.size, refused: n }, 'websocket closed: too many commands');
    // Cut at once, not end(): after a close frame uWS keeps reading (and parsing) whatever the client still
    // sends until the close handshake times out, which a client that floods never completes.
    ws.close();
  };

  app.ws<SocketState>('/ws', {
    maxPayloadLength: 4096,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    // Frames go out only on an empty send buffer (ws-viewer.ts), as do answers to malformed commands
    // (refuser.ts), so a socket holds one frame and small notices (refusals about a camera, which the command
    // budget paces, move, beat, camera gone); uWS still takes a message while less than this waits. It was
    // 16 MB; 1 MB keeps the move notice behind any ordinary frame (one dropped past it leaves that page to
    // reconnect when the socket closes).
    maxBackpressure: 1024 * 1024,
    upgrade: (res, req, context) => {
      const client = readClient(res, req, access.trusted);
      if (!access.takeRequest(client.address)) return refuser.requestRate(res, client);
      const creds = readCredentials(req, access.corsOrigins);
      const remote = client.address;
      const host = req.getHeader('host');
      const origin = req.getHeader('origin');
      if (!access.hostAllowed(host)) return refuser.http(res, REFUSALS.host);
      // Cross-site WebSocket hijacking: a page elsewhere must not ride this browser's cookie or address.
      if (!access.webSocketOriginAllowed(origin, host)) {
        // Counted always (camfan_requests_refused_total{reason="origin"}); logged at the first and every 100th.
        refuser.http(res, REFUSALS.origin);
        const n = refuser.counts.get(REFUSALS.origin.code);
        if (n === 1 || n % 100 === 0) log.info({ origin: origin.slice(0, 200), remote, refused: n }, 'websocket refused: origin not allowed');
        return;
      }
      if (!access.allows(creds)) return refuser.unauthorized(res, []);
      // Its cameras come later (each priced then): here only a full gateway refuses, and the socket takes a viewer's place.
      const place = admit(o, { remote });
      if (!(place instanceof Place)) return refuser.http(res, place);
      const beats = req.getQuery('beat') === '1';
      const now = performance.now();
      const state: SocketState = {
        viewers: new Map(),
        place,
        open: true,
        remote,
        creds,
        beats,
        sentAt: now,
        budget: new CommandBudget(now),
      };
      res.upgrade(state, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      sockets.add(ws);
    },
    message: (ws, message, isBinary) => {
      const cmd = isBinary ? REFUSALS.binary : parseCommand(message);
      // An acknowledgement of a frame in flight is free: frames are what limits those.
      if ('ack' in cmd && !('subscribe' in cmd)) {
        const viewer = ws.getUserData().viewers.get(cmd.ack);
        if (viewer !== undefined) {
          // The frame an acknowledgement lets through is delivery (priced by capacity), not request work.
          const start = performance.now();
          const accepted = viewer.ack();
          addDeliveryTime(performance.now() - start);
          if (accepted) return;
        }
      }
      if (!ws.getUserData().budget.take(performance.now())) return overBudget(ws);
      if ('code' in cmd) return refuser.ws(ws, cmd);
      if ('subscribe' in cmd) {
        subscribe(ws, cmd).catch((err: Error) => log.error({ err: err.message }, 'websocket subscribe failed'));
      } else if ('unsubscribe' in cmd) {
        unsubscribe(ws.getUserData(), cmd.unsubscribe);
      } else {
        refuser.ws(ws, REFUSALS.nothingToAck, cmd.ack);
      }
    },
    drain: (ws) => {
      const start = performance.now();
      for (const viewer of ws.getUserData().viewers.values()) viewer.drain();
      addDeliveryTime(performance.now() - start);
    },
    close: (ws) => {
      sockets.delete(ws);
      const state = ws.getUserData();
      state.open = false;
      state.place.release();
      for (const camera of [...state.viewers.keys()]) unsubscribe(state, camera);
    },
  });
  return {
    moveAll: () => {
      for (const ws of sockets) ws.send(MOVE_MESSAGE, false);
      return sockets.size;
    },
    gone: async (waitMs) => {
      const until = Date.now() + waitMs;
      while (sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
