/**
 * The hot path: one MJPEG part built once per frame, and the per-viewer state that sends it.
 *
 * Framing. Chromium paints a multipart part only once the *next* delimiter and its header block have
 * arrived (see ../shared/anchors.md), so the classic layout (headers, JPEG) shows every frame one frame
 * interval late. Browsers therefore get "advance" framing: each write is the JPEG followed at once by the
 * next delimiter and a complete header block (µStreamer's advance headers). That block cannot know the
 * next frame's size or time, so the capture timestamp also travels inside the JPEG (a COM segment right
 * after SOI). Tools that want Content-Length and X-Timestamp per part (ffmpeg, OpenCV, our load client)
 * get "classic" framing: by default when the client is not a browser, or with ?framing=classic.
 *
 * Latest frame wins. A viewer has at most one part in flight. While the socket is backpressured the
 * newest frame waits as `pending`, replacing any older pending one; nothing queues. Parts go out with
 * res.tryEnd, which never buffers what the socket did not take: on backpressure we resume from
 * getWriteOffset() in onWritable. (uWS v20.30's res.write keeps unsent bytes in its own buffer, and a
 * large write while the socket is full can lose bytes, fixed upstream only in v20.64.) tryEnd needs a
 * total size: the stream declares the largest safe integer, so it never ends by itself.
 */
import { encodeFrame, type Frame } from '../bus/frame.js';
import { Pacer } from '../lib/pacer.js';
import type { Sink } from './cameras.js';
import type { HttpResponse } from './uws.js';

export const BOUNDARY = 'camfanframe';
export const STREAM_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;
export type Framing = 'advance' | 'classic';

const ENDLESS = Number.MAX_SAFE_INTEGER;
const PART_HEAD = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n`);
const ADVANCE_TAIL = Buffer.concat([Buffer.from('\r\n'), PART_HEAD]);
const CRLF = Buffer.from('\r\n');

/** What an advance-framed stream starts with: the first part's header block. */
export const ADVANCE_PREAMBLE = PART_HEAD;

/** The JPEG COM segment that carries camera, sequence and capture time inside the image itself. */
export function commentSegment(frame: Frame, placeholder = false): Buffer {
  const text = Buffer.from(`camfan cam=${frame.camera} seq=${frame.seq} ts=${frame.timestamp.toFixed(3)}${placeholder ? ' nosignal' : ''}`, 'latin1');
  const seg = Buffer.allocUnsafe(4 + text.length);
  seg[0] = 0xff;
  seg[1] = 0xfe;
  seg.writeUInt16BE(2 + text.length, 2);
  text.copy(seg, 4);
  return seg;
}

/** Reads the capture timestamp back out of a JPEG made by commentSegment (tests, load client). */
export function readCommentTimestamp(jpeg: Buffer): number | null {
  if (jpeg[2] !== 0xff || jpeg[3] !== 0xfe) return null;
  const len = jpeg.readUInt16BE(4);
  const m = / ts=([\d.]+)/.exec(jpeg.toString('latin1', 6, 4 + len));
  return m ? Number(m[1]) : null;
}

/** One frame, with its parts built lazily and at most once per framing, shared by every viewer. */
export class FramePacket {
  private advancePart: Buffer | null = null;
  private classicPart: Buffer | null = null;
  private wsMessage: Buffer | null = null;

  /** placeholder: a "no signal" picture made by the gateway, not a camera frame. */
  constructor(
    readonly frame: Frame,
    readonly placeholder = false,
  ) {}

  /** The frame as one WebSocket message: the bus wire format (bus/frame.ts), which the page decodes. */
  message(): Buffer {
    return (this.wsMessage ??= encodeFrame(this.frame));
  }

  part(framing: Framing): Buffer {
    if (framing === 'advance') return (this.advancePart ??= this.build(null, ADVANCE_TAIL));
    return (this.classicPart ??= this.build(this.classicHead(), CRLF));
  }

  private classicHead(): Buffer {
    const f = this.frame;
    const length = f.jpeg.length + commentSegment(f, this.placeholder).length;
    return Buffer.from(
      `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\nX-Timestamp: ${(f.timestamp / 1000).toFixed(6)}\r\n\r\n`,
      'latin1',
    );
  }

  /** head + SOI + COM + rest of the JPEG + tail, in one allocation. */
  private build(head: Buffer | null, tail: Buffer): Buffer {
    const { jpeg } = this.frame;
    const com = commentSegment(this.frame, this.placeholder);
    const headLen = head?.length ?? 0;
    const out = Buffer.allocUnsafe(headLen + jpeg.length + com.length + tail.length);
    let at = 0;
    if (head) at += head.copy(out, 0);
    at += jpeg.copy(out, at, 0, 2);
    at += com.copy(out, at);
    at += jpeg.copy(out, at, 2);
    tail.copy(out, at);
    return out;
  }
}

/** Chooses the framing: ?framing= if given, else advance for browsers and classic for tools. */
export function chooseFraming(query: string | undefined, userAgent: string): Framing | null {
  if (query === 'advance' || query === 'classic') return query;
  if (query) return null;
  return userAgent.includes('Mozilla/') ? 'advance' : 'classic';
}

/** Called when a whole part has gone out, with its frame's capture time (ms since the epoch). */
export type DeliveryObserver = (captureTimestamp: number) => void;

export interface ViewerOptions {
  /** ?fps=N: at most N frames a second, spread evenly. */
  maxFps?: number;
  onDelivered?: DeliveryObserver;
  /** Client address, for /api/stats. */
  remote?: string;
}

export class Viewer implements Sink {
  delivered = 0;
  dropped = 0;
  capped = 0;
  bytes = 0;
  closed = false;
  private ending = false;
  readonly connectedAt = Date.now();
  readonly remote: string;
  readonly maxFps: number | null;
  /** performance.now() when the part in flight met backpressure; 0 while nothing waits. */
  private blockedSince = 0;
  private readonly cap: Pacer | null;
  private current: Buffer | null = null;
  private currentStart = 0;
  /** Capture time of the frame in flight (0 for the stream preamble). */
  private currentTimestamp = 0;
  private readonly onDelivered: DeliveryObserver | null;
  private pending: FramePacket | null = null;
  private lastTimestamp = -Infinity;
  private lastWriteOk = false;
  /** Made once per viewer so that sending a frame allocates nothing per viewer. */
  private readonly writeCurrentCorked = (): void => {
    this.lastWriteOk = this.writeCurrent();
  };

  constructor(
    private readonly res: HttpResponse,
    readonly camera: string,
    readonly framing: Framing,
    options: ViewerOptions = {},
  ) {
    this.cap = options.maxFps ? new Pacer(options.maxFps) : null;
    this.maxFps = options.maxFps ?? null;
    this.onDelivered = options.onDelivered ?? null;
    this.remote = options.remote ?? '';
    res.onWritable(() => this.drain());
  }

  /** Writes the status line, headers and (advance framing) the first part's header block. */
  begin(headers: ReadonlyArray<readonly [string, string]>): void {
    this.res.cork(() => {
      this.res.writeStatus('200 OK');
      for (const [k, v] of headers) this.res.writeHeader(k, v);
    });
    this.currentTimestamp = 0;
    this.start(this.framing === 'advance' ? ADVANCE_PREAMBLE : Buffer.alloc(0));
  }

  /** Latest frame wins: send now if the socket is free, else keep only the newest as pending. */
  offer(packet: FramePacket): void {
    if (this.closed || this.ending) return;
    // Camera frames only move forward; a placeholder (stamped with the gateway's clock) never blocks them.
    if (!packet.placeholder && packet.frame.timestamp <= this.lastTimestamp) return;
    if (this.cap && !this.cap.take()) {
      this.capped++;
      return;
    }
    if (!packet.placeholder) this.lastTimestamp = packet.frame.timestamp;
    if (this.current) {
      if (this.pending) this.dropped++;
      this.pending = packet;
      return;
    }
    this.startFrame(packet);
  }

  private startFrame(packet: FramePacket): void {
    this.currentTimestamp = packet.frame.timestamp;
    this.start(packet.part(this.framing));
  }

  private start(buf: Buffer): void {
    this.current = buf;
    this.currentStart = this.res.getWriteOffset();
    this.res.cork(this.writeCurrentCorked);
  }

  /** How long the socket has taken no byte of the part in flight (0 when nothing waits). */
  blockedFor(now: number): number {
    return this.blockedSince === 0 ? 0 : now - this.blockedSince;
  }

  /** Sends what is left of the current part; true when all of it went out. */
  private writeCurrent(): boolean {
    const cur = this.current!;
    const before = this.res.getWriteOffset();
    const sent = before - this.currentStart;
    const [ok] = this.res.tryEnd(sent === 0 ? cur : cur.subarray(sent), ENDLESS);
    if (!ok) {
      // A slow but live client makes progress; only a socket that takes nothing counts as stalled.
      if (this.blockedSince === 0 || this.res.getWriteOffset() > before) this.blockedSince = performance.now();
      return false;
    }
    this.bytes += cur.length;
    if (this.currentTimestamp > 0) {
      this.delivered++;
      this.onDelivered?.(this.currentTimestamp);
    }
    this.current = null;
    this.blockedSince = 0;
    if (this.ending) this.close();
    return true;
  }

  /** onWritable: finish the part in flight, then the pending frame if one came meanwhile. */
  private drain(): boolean {
    if (this.closed || !this.current) return true;
    this.res.cork(this.writeCurrentCorked);
    if (!this.lastWriteOk) return false;
    const next = this.pending;
    if (!next) return true;
    this.pending = null;
    this.startFrame(next);
    return this.lastWriteOk;
  }

  snapshot(now: number): Record<string, unknown> {
    const seconds = Math.max(0.001, (Date.now() - this.connectedAt) / 1000);
    return {
      camera: this.camera,
      remote: this.remote,
      transport: 'mjpeg',
      framing: this.framing,
      maxFps: this.maxFps,
      connectedAt: this.connectedAt,
      delivered: this.delivered,
      fps: Math.round((this.delivered / seconds) * 10) / 10,
      dropped: this.dropped,
      capped: this.capped,
      blockedMs: Math.round(this.blockedFor(now)),
    };
  }

  /** Marks the viewer gone (the client left). */
  aborted(): void {
    this.closed = true;
    this.current = null;
    this.pending = null;
  }

  /**
   * Ends the stream at a part boundary (shutdown, reload): now if no part is in flight, else as soon as
   * it is out. A browser <img> then sees the stream end, not a torn picture.
   */
  end(): void {
    this.ending = true;
    this.pending = null;
    if (!this.current) this.close();
  }

  /** Server-side close (shutdown, stall): the connection ends; uWS then calls onAborted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.close();
  }
}
