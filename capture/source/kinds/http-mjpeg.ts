/**
 * An HTTP(S) MJPEG camera read by camfan itself (node:http, no OpenCV): the multipart/x-mixed-replace
 * stream is split into parts, each part checked as a whole JPEG and measured from its SOF, and the
 * camera's bytes handed on unchanged; they are decoded only when a frame must be encoded again.
 * Credentials in the URL work: userinfo becomes HTTP Basic auth, the query string is sent as it is.
 *
 * Where it runs: passing through, in the capture process itself (../in-process.ts says why: a pure-Node
 * reader cannot hang the way OpenCV can, and passthrough needs no decoder). Once a frame must be
 * transcoded, in the source process like every other source, where OpenCV decodes the camera's bytes
 * (native code that may crash on them) and the open watchdog, stall detection and backoff are the same.
 *
 * A server that answers with something else than multipart MJPEG (an MP4, HLS, Digest auth, which
 * FFmpeg speaks and this reader does not) is handed to OpenCV/FFmpeg, as before passthrough existed (in
 * the capture process: HandOffError, and a source process takes the camera over).
 */
import type http from 'node:http';
import type { Logger } from '../../../lib/log.js';
import { describeUrl } from './describe.js';
import { jpegFrame } from './frames.js';
import { openHttp, type RedirectPolicy } from './http-open.js';
import { inspectJpeg, tooLargeToDecode, type JpegInfo } from './jpeg.js';
import { boundaryOf, MultipartParser, sniffBoundary } from './multipart.js';
import type { OpenCvSource } from './opencv.js';
import { HandOffError, SourceError, type FrameSource, type SourceFrame } from './source.js';

export interface HttpMjpegOptions {
  maxFrameBytes: number;
  /** No byte from the server this long: the connection is given up (the pipeline reopens it). */
  stallTimeoutMs: number;
  log: Logger;
  /** For the OpenCV fallback. */
  size: { width: number | 'source'; height: number | 'source'; fps: number };
  /** In the capture process (no OpenCV there): a server that needs the OpenCV fallback ends the source with HandOffError. */
  openCvFallback: boolean;
  /** CAPTURE_REDIRECTS (http-open.ts). */
  redirects: RedirectPolicy;
}

const REPORT_EVERY_MS = 5000;

export class HttpMjpegSource implements FrameSource {
  readonly description: string;
  delivers = 'not connected';
  private request: http.ClientRequest | null = null;
  private latest: SourceFrame | null = null;
  private failure: Error | null = null;
  private waiter: ((frame: SourceFrame | null) => void) | null = null;
  private fallback: OpenCvSource | null = null;
  private readonly broken = new Map<string, { count: number; sinceReport: number; reportedAt: number }>();

  constructor(
    private readonly url: string,
    private readonly o: HttpMjpegOptions,
  ) {
    this.description = `stream ${describeUrl(url)}`;
  }

  async open(): Promise<void> {
    this.close();
    const res = await this.connect();
    let boundary = res.statusCode === 200 ? boundaryOf(res.headers['content-type']) : null;
    let head: Buffer | null = null;
    if (res.statusCode === 200 && !boundary) {
      head = await firstChunk(res);
      boundary = head && sniffBoundary(head);
    }
    if (boundary) {
      this.delivers = `MJPEG over HTTP (boundary ${JSON.stringify(boundary)})`;
      this.stream(res, boundary, head);
      return;
    }
    res.destroy();
    this.request?.destroy();
    this.request = null;
    const status = res.statusCode ?? 0;
    const digest = status === 401 && /^\s*digest/i.test(String(res.headers['www-authenticate'] ?? ''));
    if (status !== 200 && !digest)
      throw new SourceError(`${this.description} answered HTTP ${status}${status === 401 ? ' (check the user and password in CAPTURE_SOURCE)' : ''}`);
    const why = digest
      ? 'the camera asks for Digest auth'
      : `the server sends ${String(res.headers['content-type'] ?? 'no Content-Type')}, not multipart MJPEG`;
    if (!this.o.openCvFallback) throw new HandOffError(why);
    this.delivers = `OpenCV/FFmpeg (${why})`;
    const { OpenCvSource } = await import('./opencv.js');
    const probe = { redirects: this.o.redirects, timeoutMs: this.o.stallTimeoutMs, log: this.o.log };
    this.fallback = new OpenCvSource({ kind: 'url', url: this.url }, { ...this.o.size, rawMjpeg: false, probe });
    await this.fallback.open();
  }

  /** The response after the redirects CAPTURE_REDIRECTS allows (http-open.ts); this.request is the request it answers. */
  private async connect(): Promise<http.IncomingMessage> {
    const onRequest = (req: http.ClientRequest): void => {
      this.request = req;
      req.on('error', (err) => this.failIfCurrent(req, new SourceError(`${this.description}: ${err.message}`)));
    };
    const o = { redirects: this.o.redirects, timeoutMs: this.o.stallTimeoutMs, log: this.o.log, description: this.description, onRequest };
    return (await openHttp(this.url, o)).res;
  }

  private stream(res: http.IncomingMessage, boundary: string, head: Buffer | null): void {
    const parser = new MultipartParser(boundary, this.o.maxFrameBytes, {
      part: ({ body }) => this.onJpeg(body),
      broken: (reason) => this.reportBroken(reason),
    });
    if (head) parser.push(head);
    res.resume();
    const req = this.request;
    res.on('data', (chunk: Buffer) => req === this.request && parser.push(chunk));
    res.once('end', () => this.failIfCurrent(req, new SourceError(`${this.description} ended the stream`)));
    res.on('error', (err) => this.failIfCurrent(req, new SourceError(`${this.description}: ${err.message}`)));
  }

  private onJpeg(jpeg: Buffer): void {
    let info: JpegInfo;
    try {
      info = inspectJpeg(jpeg);
    } catch (err) {
      this.reportBroken(`part of ${jpeg.length} bytes is not a whole JPEG: ${(err as Error).message}`);
      return;
    }
    // Before the frame can be published, passed on or decided about (a hand-off to a source process decodes it).
    const tooLarge = tooLargeToDecode(info);
    if (tooLarge) return this.reportBroken(tooLarge);
    const frame = jpegFrame(jpeg, info.width, info.height, info.hasHuffmanTables);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(frame);
    } else {
      this.latest = frame; // latest wins: a busy pipeline never queues the camera's frames
    }
  }

  /**
   * Each broken part is skipped. The first of each kind (a cut JPEG, an oversized part, …) is logged at
   * once, repeats of that kind as a count at most every 5 s: a camera that sends nothing but broken parts
   * costs a log line every few seconds, not one per frame.
   */
  private reportBroken(reason: string): void {
    const kind = this.broken.size < 16 ? reason.replace(/\d+/g, 'N').slice(0, 60) : 'other';
    const b = this.broken.get(kind) ?? { count: 0, sinceReport: 0, reportedAt: 0 };
    this.broken.set(kind, b);
    b.count++;
    b.sinceReport++;
    const now = Date.now();
    if (b.count > 1 && now - b.reportedAt < REPORT_EVERY_MS) return;
    this.o.log.warn({ source: this.description, reason, skipped: b.sinceReport, skippedTotal: b.count }, 'broken part from the camera skipped');
    b.sinceReport = 0;
    b.reportedAt = now;
  }

  /** Events of a connection already closed (reopened since) must not fail the new one. */
  private failIfCurrent(req: http.ClientRequest | null, err: Error): void {
    if (req !== null && req === this.request) this.fail(err);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }

  async read(): Promise<SourceFrame | null> {
    if (this.fallback) return this.fallback.read();
    const frame = this.latest;
    if (frame) {
      this.latest = null;
      return frame;
    }
    if (this.failure) throw this.failure;
    if (!this.request) throw new SourceError(`${this.description} is not open`);
    const next = await new Promise<SourceFrame | null>((resolve) => (this.waiter = resolve));
    if (next === null && this.failure) throw this.failure;
    return next;
  }

  rewind(): boolean {
    return false;
  }

  close(): void {
    this.request?.destroy();
    this.request = null;
    this.fallback?.close();
    this.fallback = null;
    this.latest = null;
    this.failure = null;
    this.waiter?.(null);
    this.waiter = null;
  }
}

/** The body's first bytes, up to the end of a first part header (or 1 KB); null if it ends first. The response is left paused. */
function firstChunk(res: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const done = (value: Buffer | null): void => {
      res.pause();
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('close', onEnd);
      resolve(value);
    };
    // ffmpeg writes "--ffmpeg\r\n" on its own before the part header: wait for the header's end.
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 1024 || head.includes('\r\n\r\n') || head.includes('\n\n')) done(head);
    };
    const onEnd = (): void => done(null);
    res.on('data', onData);
    res.once('end', onEnd);
    res.once('close', onEnd);
  });
}
