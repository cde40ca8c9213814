/**
 * Beats on idle /ws sockets (lib/wire/liveness.mts): a socket opened as /ws?beat=1 that has been given nothing
 * for BEAT_MS gets a small text message, so that its page can tell a quiet camera from a dead gateway host
 * and move within a second or two. A socket with unsent data gets none: what is on its way says the same.
 */
import { BEAT_MESSAGE, BEAT_MS } from '../../lib/wire/liveness.mjs';
import type { SocketState } from '../delivery/ws-viewer.js';
import type { WebSocket } from './uws.js';

export function startHeartbeat(sockets: ReadonlySet<WebSocket<SocketState>>): NodeJS.Timeout {
  const timer = setInterval(() => {
    const now = performance.now();
    for (const ws of sockets) {
      const state = ws.getUserData();
      if (!state.beats || now - state.sentAt < BEAT_MS || ws.getBufferedAmount() > 0) continue;
      ws.send(BEAT_MESSAGE, false);
      state.sentAt = now;
    }
  }, BEAT_MS);
  timer.unref();
  return timer;
}
