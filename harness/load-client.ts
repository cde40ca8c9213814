/**
 * The load generator's viewer: a raw TCP client that reads classic-framed MJPEG without copying bodies,
 * with the tests' part reader (harness/mjpeg-parts.ts): per chunk a few Buffer.indexOf calls and
 * counter updates, so one process can follow hundreds of streams. Every part is still checked: the
 * boundary first, SOI at the start, EOI at the end, CRLF after Content-Length bytes, and a capture time.
 */
import { connect, type Socket } from 'node:net';
import { MjpegPartReader, type ReadPart } from './mjpeg-parts.js';

const now = (): number => performance.timeOrigin + performance.now();

export interface ViewerCounters {
  frames: number;
  invalid: number;
  connectedAt: number;
  firstPartAt: number | null;
  closed: boolean;
}

export interface LoadViewerOptions {
  port: number;
  path: string;
  /** Bytes per second to read at most (a slow viewer); unlimited when absent. */
  readBytesPerSecond?: number;
  /** Called with the end-to-end latency (ms) of each whole part. */
  onPart?: (latencyMs: number, bytes: number) => void;
}

export class LoadViewer implements ViewerCounters {
  frames = 0;
  invalid = 0;
  connectedAt = now();
  firstPartAt: number | null = null;
  closed = false;
  readonly socket: Socket;
  private readonly reader: MjpegPartReader;
  private budget = 0;
  private lastRead = performance.now();

  constructor(private readonly o: LoadViewerOptions) {
    this.reader = new MjpegPartReader({ responseHead: true, onPart: (part) => this.onPart(part), onInvalid: () => this.invalid++ });
    this.socket = connect(o.port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => this.socket.write(`GET ${o.path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: camfan-bench\r\n\r\n`));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    if (this.o.readBytesPerSecond) this.throttle(chunk.length, this.o.readBytesPerSecond);
  }

  private onPart(part: ReadPart): void {
    const t = now();
    // A part without a capture time cannot be measured (the gateway stamps every one).
    if (part.timestamp === null) {
      this.invalid++;
      return;
    }
    this.frames++;
    this.firstPartAt ??= t;
    this.o.onPart?.(t - part.timestamp, part.bytes);
  }

  /** Pauses the socket so that on average at most `rate` bytes a second are read. */
  private throttle(bytes: number, rate: number): void {
    const t = performance.now();
    this.budget = Math.min(this.budget + ((t - this.lastRead) / 1000) * rate, rate / 10) - bytes;
    this.lastRead = t;
    if (this.budget < 0) {
      this.socket.pause();
      setTimeout(() => this.socket.resume(), (-this.budget / rate) * 1000);
    }
  }
}
