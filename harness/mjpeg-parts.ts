/**
 * The one strict reader of the gateway's MJPEG output, shared by the tests' client (mjpeg-client.ts) and
 * the Node load client (harness/load-client.ts). Unlike the capture's lenient reader of cameras
 * (capture/source/kinds/multipart.ts) it reports every departure from what camfan sends, part by part:
 * headers that do not start with the boundary, a body that is not a whole JPEG (SOI ... EOI), and
 * Content-Length bytes not followed by CRLF. It reads both framings: classic (Content-Length; the body is
 * counted through chunk by chunk and never joined unless kept) and advance (no length; the body ends at
 * the next delimiter). Only Buffer.indexOf looks for delimiters, never a loop over bytes.
 */
import { isJpeg } from '../bus/frame.js';
import { BOUNDARY, readCommentTimestamp } from '../gateway/delivery/packet.js';

export interface ReadPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The JPEG, copied out of the stream (keepBodies), else null. */
  jpeg: Buffer | null;
  bytes: number;
  /** Capture time (ms since the epoch), from X-Timestamp or the JPEG comment the gateway adds. */
  timestamp: number | null;
  /** Sequence number, from the JPEG comment. */
  seq: number | null;
}

export interface PartReaderOptions {
  /** The bytes start with an HTTP response head (a raw socket): skip it. */
  responseHead?: boolean;
  /** Keep each part's JPEG (one copy per part); without, only its first bytes and its end are looked at. */
  keepBodies?: boolean;
  onPart(part: ReadPart): void;
  /** A check failed: why, naming the part by its index. */
  onInvalid(reason: string): void;
}

const BOUNDARY_LINE = Buffer.from(`--${BOUNDARY}`, 'latin1');
const DELIMITER = Buffer.from(`\r\n--${BOUNDARY}`, 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 16 * 1024;
/** Enough of a body for the gateway's JPEG comment (camera, seq, timestamp). */
const PREFIX_BYTES = 256;
const EMPTY = Buffer.alloc(0);

type State = 'response' | 'head' | 'sized' | 'crlf' | 'open';

export class MjpegPartReader {
  /** Whole parts read so far. */
  parts = 0;
  private state: State;
  private head: Buffer = EMPTY;
  private headers: Record<string, string> = {};
  private length = 0;
  private remaining = 0;
  private body: Buffer | null = null;
  private prefix: Buffer = EMPTY;
  private lastTwo = 0;
  private crlfBroken = false;
  private open: Buffer = EMPTY;
  private searchFrom = 0;
  private sincePart = 0;
  /**
   * Where in the current chunk the last step completed a part (or the response head), for `buffered`;
   * negative when the next part's first bytes came from an earlier chunk. null: nothing completed.
   */
  private completedAt: number | null = null;

  constructor(private readonly o: PartReaderOptions) {
    this.state = o.responseHead ? 'response' : 'head';
  }

  /** Bytes received since the last whole part: 0 when the stream stopped at a part boundary. */
  get buffered(): number {
    return this.sincePart;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const next = this.step(chunk, at);
      if (this.completedAt !== null) this.sincePart = next - this.completedAt;
      else this.sincePart += next - at;
      this.completedAt = null;
      at = next;
    }
  }

  /** Consumes bytes from chunk[at..]; returns the new position. */
  private step(chunk: Buffer, at: number): number {
    switch (this.state) {
      case 'response':
      case 'head':
        return this.readHead(chunk, at);
      case 'sized':
        return this.readSized(chunk, at);
      case 'crlf':
        return this.readCrlf(chunk, at);
      case 'open':
        return this.readOpen(chunk, at);
    }
  }

  private readHead(chunk: Buffer, at: number): number {
    const joined = this.head.length ? Buffer.concat([this.head, chunk.subarray(at)]) : chunk.subarray(at);
    const end = joined.indexOf(HEAD_END);
    if (end < 0) {
      if (joined.length > MAX_HEAD_BYTES) this.invalid(`no end of headers within ${MAX_HEAD_BYTES} bytes`);
      this.head = joined.length > MAX_HEAD_BYTES ? EMPTY : Buffer.from(joined);
      return chunk.length;
    }
    const next = at + end + 4 - this.head.length;
    this.head = EMPTY;
    if (this.state === 'response') {
      this.state = 'head';
      this.completedAt = next;
    } else {
      this.startPart(joined.subarray(0, end));
    }
    return next;
  }

  private startPart(head: Buffer): void {
    const start = head.indexOf(BOUNDARY_LINE);
    if (start !== 0) this.invalid(start < 0 ? 'part headers without the boundary' : `${start} bytes before the boundary`);
    const headers: Record<string, string> = {};
    for (const line of head.toString('latin1', Math.max(0, start) + BOUNDARY_LINE.length).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    this.headers = headers;
    const length = headers['content-length'];
    if (length === undefined) {
      this.state = 'open';
      return;
    }
    const n = Number(length);
    if (!/^\d+$/.test(length) || !Number.isSafeInteger(n)) {
      this.invalid(`Content-Length ${JSON.stringify(length)} is not a number`);
      this.state = 'open';
      return;
    }
    this.length = this.remaining = n;
    this.body = this.o.keepBodies ? Buffer.allocUnsafe(n) : null;
    this.prefix = EMPTY;
    this.lastTwo = 0;
    this.state = 'sized';
    if (n === 0) this.finishSized();
  }

  private readSized(chunk: Buffer, at: number): number {
    const n = Math.min(this.remaining, chunk.length - at);
    const offset = this.length - this.remaining;
    if (this.body) chunk.copy(this.body, offset, at, at + n);
    else if (offset < PREFIX_BYTES) this.prefix = Buffer.concat([this.prefix, chunk.subarray(at, at + Math.min(n, PREFIX_BYTES - offset))]);
    if (n >= 2) this.lastTwo = chunk.readUInt16BE(at + n - 2);
    else if (n === 1) this.lastTwo = ((this.lastTwo & 0xff) << 8) | chunk[at]!;
    this.remaining -= n;
    if (this.remaining === 0) this.finishSized();
    return at + n;
  }

  private finishSized(): void {
    const start = this.body ?? this.prefix;
    const whole = this.length >= 4 && start[0] === 0xff && start[1] === 0xd8 && this.lastTwo === 0xffd9;
    this.emit(this.body, start, this.length, whole);
    this.body = null;
    this.prefix = EMPTY;
    this.state = 'crlf';
    this.remaining = 2;
    this.crlfBroken = false;
  }

  private readCrlf(chunk: Buffer, at: number): number {
    const n = Math.min(this.remaining, chunk.length - at);
    for (let i = 0; i < n; i++) if (chunk[at + i] !== (this.remaining - i === 2 ? 0x0d : 0x0a)) this.crlfBroken = true;
    this.remaining -= n;
    if (this.remaining === 0) {
      // Counted against the part just read (parts was incremented when it was emitted).
      if (this.crlfBroken) this.o.onInvalid(`part ${this.parts - 1}: Content-Length ${this.length} does not end at CRLF`);
      this.state = 'head';
      this.completedAt = at + n;
    }
    return at + n;
  }

  /** Advance framing: the body runs to the next delimiter. */
  private readOpen(chunk: Buffer, at: number): number {
    const before = this.open.length;
    this.open = before ? Buffer.concat([this.open, chunk.subarray(at)]) : chunk.subarray(at);
    const end = this.open.indexOf(DELIMITER, this.searchFrom);
    if (end < 0) {
      this.searchFrom = Math.max(0, this.open.length - DELIMITER.length + 1);
      return chunk.length;
    }
    const jpeg = this.open.subarray(0, end);
    this.emit(this.o.keepBodies ? Buffer.from(jpeg) : null, jpeg, jpeg.length, isJpeg(jpeg));
    // The next part's headers start after the CRLF. When the delimiter straddled two chunks, they begin
    // with at most 12 bytes of the earlier one (a prefix of the boundary, never a whole header block).
    const rest = end + 2 - before;
    this.head = rest < 0 ? Buffer.from(this.open.subarray(end + 2, before)) : EMPTY;
    this.open = EMPTY;
    this.searchFrom = 0;
    this.state = 'head';
    this.completedAt = at + rest;
    return at + Math.max(0, rest);
  }

  private emit(jpeg: Buffer | null, start: Buffer, bytes: number, whole: boolean): void {
    if (!whole) this.invalid(`not a whole JPEG (${bytes} bytes)`);
    const xts = this.headers['x-timestamp'];
    const hasComment = start.length >= 6 && start[2] === 0xff && start[3] === 0xfe;
    const timestamp = xts ? Number(xts) * 1000 : hasComment ? readCommentTimestamp(start) : null;
    const seq = hasComment ? / seq=(\d+)/.exec(start.toString('latin1', 6, Math.min(start.length, 4 + start.readUInt16BE(4)))) : null;
    this.parts++;
    this.o.onPart({ headers: this.headers, jpeg, bytes, timestamp, seq: seq ? Number(seq[1]) : null });
  }

  private invalid(reason: string): void {
    this.o.onInvalid(`part ${this.parts}: ${reason}`);
  }
}
