/**
 * A viewer of one camera on a /ws WebSocket (ws.ts). One socket carries any number of cameras; a camera's
 * frame is in flight while the socket has unsent data, so at most one frame per socket waits in uWS and
 * each camera keeps only its newest frame pending until the socket drains.
 */
import type { Credentials } from './access.js';
import type { FramePacket } from './packet.js';
import type { WebSocket } from './uws.js';
import { Viewer, type ViewerOptions } from './viewer.js';

/** What the gateway keeps per WebSocket (uWS user data). */
export interface SocketState {
  viewers: Map<string, WsViewer>;
  open: boolean;
  remote: string;
  creds: Credentials;
}

export class WsViewer extends Viewer {
  private unsubscribed = false;

  constructor(
    private readonly ws: WebSocket<SocketState>,
    camera: string,
    options: ViewerOptions = {},
  ) {
    super(camera, options);
  }

  get closed(): boolean {
    return this.unsubscribed || !this.ws.getUserData().open;
  }

  protected busy(): boolean {
    return this.ws.getBufferedAmount() > 0;
  }

  protected transmit(packet: FramePacket): void {
    const msg = packet.message();
    // 1: sent, 0: queued in uWS (at most this one frame: we only send on an empty buffer), 2: dropped.
    if (this.ws.send(msg, true, false) === 2) {
      this.dropped++;
      return;
    }
    this.sent(packet, msg.length);
  }

  /** The socket drained: this camera's pending frame goes if the socket is still free. */
  drain(): void {
    if (!this.closed && !this.busy()) this.sendPending();
  }

  blockedFor(): number {
    return 0; // uWS closes a WebSocket that stops answering pings (idleTimeout)
  }

  /** The client unsubscribed: no more frames, the socket stays open. */
  unsubscribe(): void {
    this.unsubscribed = true;
    this.forgetPending();
  }

  cameraGone(): void {
    const state = this.ws.getUserData();
    this.unsubscribe();
    state.viewers.delete(this.camera);
    if (state.open) this.ws.send(JSON.stringify({ error: 'camera gone', camera: this.camera }), false);
  }

  /** Ends the whole socket (shutdown). */
  end(): void {
    this.unsubscribe();
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
    return { ...this.figures(), transport: 'websocket' };
  }
}
