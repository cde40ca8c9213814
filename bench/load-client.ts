/**
 * The load generator's viewer: a raw TCP client that parses classic-framed MJPEG without copying bodies.
 * Per chunk it does a few Buffer.indexOf calls and counter updates, so one process can follow hundreds
 * of streams. Every part is still checked: headers, SOI at the start, EOI at the end, CRLF after
 * Content-Length bytes, and the next part starting with the boundary.
 */
import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
const BOUNDARY = Buffer.from('--camfanframe\r\n');
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

type State = 'response' | 'head' | 'body' | 'crlf';

export class LoadViewer implements ViewerCounters {
  frames = 0;
  invalid = 0;
  connectedAt = now();
  firstPartAt: number | null = null;
  closed = false;
  readonly socket: Socket;
  private state: State = 'response';
  private head: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private bodyLength = 0;
  private timestamp = 0;
  private lastTwo = 0;
  private budget = 0;
  private lastRead = performance.now();

  constructor(private readonly o: LoadViewerOptions) {
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
    let at = 0;
    while (at < chunk.length) at = this.step(chunk, at);
    if (this.o.readBytesPerSecond) this.throttle(chunk.length, this.o.readBytesPerSecond);
  }

  /** Consumes bytes from chunk[at..]; returns the new position. */
  private step(chunk: Buffer, at: number): number {
    switch (this.state) {
      case 'response':
      case 'head': {
        const joined = this.head.length ? Buffer.concat([this.head, chunk.subarray(at)]) : chunk.subarray(at);
        const end = joined.indexOf(HEAD_END);
        if (end < 0) {
          this.head = Buffer.from(joined);
          return chunk.length;
        }
        const consumed = end + 4 - this.head.length;
        if (this.state === 'head') this.parsePartHead(joined.subarray(0, end));
        else this.state = 'head';
        this.head = Buffer.alloc(0);
        return at + consumed;
      }
      case 'body': {
        const n = Math.min(this.remaining, chunk.length - at);
        if (this.remaining === this.bodyLength && (chunk[at] !== 0xff || (n > 1 && chunk[at + 1] !== 0xd8))) this.invalid++;
        if (n >= 2) this.lastTwo = chunk.readUInt16BE(at + n - 2);
        else if (n === 1) this.lastTwo = ((this.lastTwo & 0xff) << 8) | chunk[at]!;
        this.remaining -= n;
        if (this.remaining === 0) this.finishPart();
        return at + n;
      }
      case 'crlf': {
        // Two bytes, possibly split across chunks: count them off.
        const need = this.remaining;
        const n = Math.min(need, chunk.length - at);
        for (let i = 0; i < n; i++) if (chunk[at + i] !== (need - i === 2 ? 0x0d : 0x0a)) this.invalid++;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'head';
        return at + n;
      }
    }
  }

  private parsePartHead(head: Buffer): void {
    if (head.indexOf(BOUNDARY) !== 0) this.invalid++;
    const text = head.toString('latin1');
    const len = /Content-Length: (\d+)/.exec(text);
    const ts = /X-Timestamp: ([\d.]+)/.exec(text);
    if (!len || !ts) {
      this.invalid++;
      this.socket.destroy();
      return;
    }
    this.bodyLength = this.remaining = Number(len[1]);
    this.timestamp = Number(ts[1]) * 1000;
    this.state = 'body';
  }

  private finishPart(): void {
    const t = now();
    if (this.lastTwo !== 0xffd9) this.invalid++;
    this.frames++;
    this.firstPartAt ??= t;
    this.o.onPart?.(t - this.timestamp, this.bodyLength);
    this.state = 'crlf';
    this.remaining = 2;
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
