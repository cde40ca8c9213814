/**
 * A viewer on an MJPEG response (multipart/x-mixed-replace). Parts go out with res.tryEnd, which never
 * buffers what the socket did not take: on backpressure we resume from the exact offset the socket stopped
 * at, in onWritable. (uWS v20.30's res.write keeps unsent bytes in its own buffer, and a large write while
 * the socket is full can lose bytes, fixed upstream only in v20.64.) tryEnd needs a total size: the stream
 * declares the largest safe integer, so it never ends by itself.
 *
 * This is the per-viewer hot path. A whole write costs one call into uWS (tryEnd): the response's write
 * offset is tracked here and read from uWS only after a partial write, and the fan-out runs a whole slice
 * of viewers inside one response's cork (shareCork). uWS.js asks only that writes happen inside *a* cork
 * callback; uWS itself sends a write to a socket that is not the corked one straight away (one send per
 * part, as a C writev server does), and corks a socket for its own writes only when no other is corked.
 * Outside a shared cork (a drain, the first part) each viewer corks its own response as before.
 */
import { ADVANCE_PREAMBLE, type FramePacket, type Framing } from './packet.js';
import type { HttpResponse } from '../http/uws.js';
import { Viewer, type ViewerOptions } from './viewer.js';
import { timedDelivery } from './delivery-time.js';

const ENDLESS = Number.MAX_SAFE_INTEGER;
/** How many shared corks are open (nested only if a write calls back into the fan-out). */
let sharedCorks = 0;

export class MjpegViewer extends Viewer {
  /** A part counts as shown once the kernel took its last byte (writeCurrent). */
  protected readonly sentShows = 'mjpeg';
  private isClosed = false;
  /** The bytes in flight: a frame's part, or the advance preamble. */
  private current: Buffer | null = null;
  /** The frame in flight (null for the preamble). */
  private currentPacket: FramePacket | null = null;
  /** Write offset of the response where `current` starts. */
  private currentStart = 0;
  /** How many body bytes the response has taken (uWS's write offset). */
  private offset = 0;
  /** performance.now() when the part in flight last met a socket that took nothing; 0 while nothing waits. */
  private blockedSince = 0;
  private lastWriteOk = false;
  /** Made once per viewer so that sending a frame allocates no closure. */
  private readonly writeCorked = (): void => {
    this.lastWriteOk = this.writeCurrent();
  };

  constructor(
    private readonly res: HttpResponse,
    camera: string,
    readonly framing: Framing,
    options: ViewerOptions = {},
  ) {
    super(camera, options);
    const drain = (): boolean => this.drain();
    res.onWritable(() => timedDelivery(drain));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Writes the status line, headers and (advance framing) the first part's header block. */
  begin(headers: ReadonlyArray<readonly [string, string]>): void {
    this.res.cork(() => {
      this.res.writeStatus('200 OK');
      for (const [k, v] of headers) this.res.writeHeader(k, v);
    });
    this.offset = this.res.getWriteOffset();
    if (this.framing === 'advance') this.start(ADVANCE_PREAMBLE, null);
  }

  protected busy(): boolean {
    return this.current !== null;
  }

  protected transmit(packet: FramePacket): void {
    this.start(packet.part(this.framing), packet);
  }

  private start(bytes: Buffer, packet: FramePacket | null): void {
    this.current = bytes;
    this.currentPacket = packet;
    this.currentStart = this.offset;
    if (sharedCorks > 0) this.writeCorked();
    else this.res.cork(this.writeCorked);
  }

  shareCork(work: () => void): boolean {
    if (this.isClosed) return false; // uWS throws on a response it has aborted
    this.res.cork(() => {
      sharedCorks++;
      try {
        work();
      } finally {
        sharedCorks--;
      }
    });
    return true;
  }

  /** Sends what is left of the part in flight; true when all of it went out. */
  private writeCurrent(): boolean {
    const cur = this.current!;
    const done = this.offset - this.currentStart;
    // Indexing, not destructuring: no iterator on the hot path.
    const ok = this.res.tryEnd(done === 0 ? cur : cur.subarray(done), ENDLESS)[0];
    if (!ok) {
      const offset = this.res.getWriteOffset();
      // A slow but live client makes progress; only a socket that takes nothing counts as stalled.
      if (this.blockedSince === 0 || offset > this.offset) this.blockedSince = performance.now();
      this.offset = offset;
      return false;
    }
    this.offset = this.currentStart + cur.length;
    const packet = this.currentPacket;
    this.current = null;
    this.currentPacket = null;
    this.blockedSince = 0;
    if (packet !== null) this.sent(packet, cur.length);
    else this.bytes += cur.length;
    if (this.ending) this.close();
    return true;
  }

  /** onWritable: finish the part in flight, then the pending frame if one came meanwhile. */
  private drain(): boolean {
    if (this.isClosed || this.current === null) return true;
    this.res.cork(this.writeCorked);
    if (!this.lastWriteOk) return false;
    this.sendPending();
    return this.current === null;
  }

  retry(): void {
    this.drain();
  }

  cameraGone(): void {
    this.end();
  }

  blockedFor(now: number): number {
    return this.blockedSince === 0 ? 0 : now - this.blockedSince;
  }

  snapshot(now: number): Record<string, unknown> {
    return { ...this.figures(), transport: 'mjpeg', framing: this.framing, blockedMs: Math.round(this.blockedFor(now)) };
  }

  /** Marks the viewer gone (the client left; uWS called onAborted). */
  aborted(): void {
    this.isClosed = true;
    this.current = null;
    this.currentPacket = null;
    this.forgetPending();
  }

  /**
   * Ends the stream at a part boundary (shutdown, reload): now if no part is in flight, else as soon as
   * it is out. A browser <img> then sees the stream end, not a torn picture.
   */
  end(): void {
    this.ending = true;
    this.forgetPending();
    if (this.current === null) this.close();
  }

  /** Server-side close (shutdown, stall): the connection ends; uWS then calls onAborted. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.res.close();
  }
}
