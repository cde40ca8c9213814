/**
 * A streaming reader of RESP2 (the Redis protocol) for the frame subscriber (resp-subscriber.ts). It takes
 * bytes as the socket hands them over, in any cut, and calls back once per whole top-level reply. A bulk
 * string is copied once, straight from the read buffer into a Buffer of its exact size, so a frame costs one
 * allocation and one copy whatever the number of reads it arrived in; the read buffer can then be reused.
 * A bulk string over maxBulkBytes is skipped (no allocation) and reported as TooLarge, so a rogue publisher
 * cannot make a gateway allocate without bound.
 */

/** An error reply (-ERR …, -NOPERM …). */
export class RespError {
  constructor(readonly message: string) {}
}

/** Stands for a bulk string that was longer than the reader accepts; its bytes were skipped. */
export class TooLarge {
  constructor(readonly bytes: number) {}
}

export type RespValue = string | number | Buffer | null | RespError | TooLarge | RespValue[];

/** The bytes broke the protocol: the connection cannot be trusted to stay in step and must be dropped. */
export class RespProtocolError extends Error {
  constructor(reason: string) {
    super(`Redis protocol error: ${reason}`);
    this.name = 'RespProtocolError';
  }
}

const CR = 0x0d;
const LF = 0x0a;
/** Longest header or simple line kept while it arrives in pieces (error texts are the long ones). */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_DEPTH = 8;

interface OpenArray {
  items: RespValue[];
  remaining: number;
}

export class RespReader {
  /** A header line cut by a read boundary: its first bytes. */
  private partialLine: Buffer | null = null;
  /** The bulk string being filled (null while skipping an oversized one or reading lines). */
  private bulk: Buffer | null = null;
  /** Bytes of the bulk string (content and its CRLF) still to come; 0 while reading lines. */
  private bulkLeft = 0;
  private bulkFilled = 0;
  private skipping: TooLarge | null = null;
  private readonly arrays: OpenArray[] = [];

  constructor(
    private readonly onReply: (reply: RespValue) => void,
    private readonly maxBulkBytes: number,
  ) {}

  /** Feeds bytes [start, end) of buf; buf may be reused by the caller afterwards. Throws RespProtocolError. */
  push(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      if (this.bulkLeft > 0) {
        pos = this.fillBulk(buf, pos, end);
        continue;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf === -1 || lf >= end) {
        this.keepPartialLine(buf, pos, end);
        return;
      }
      if (this.partialLine === null) {
        this.line(buf, pos, lf);
      } else {
        const whole = Buffer.concat([this.partialLine, buf.subarray(pos, lf)]);
        this.partialLine = null;
        this.line(whole, 0, whole.length);
      }
      pos = lf + 1;
    }
  }

  /** Forgets any half-read reply (the connection was lost). */
  reset(): void {
    this.partialLine = null;
    this.bulk = null;
    this.bulkLeft = 0;
    this.bulkFilled = 0;
    this.skipping = null;
    this.arrays.length = 0;
  }

  private keepPartialLine(buf: Buffer, pos: number, end: number): void {
    const piece = Buffer.from(buf.subarray(pos, end)); // a copy: buf is the caller's and gets reused
    this.partialLine = this.partialLine === null ? piece : Buffer.concat([this.partialLine, piece]);
    if (this.partialLine.length > MAX_LINE_BYTES) throw new RespProtocolError(`a line longer than ${MAX_LINE_BYTES} bytes`);
  }

  /** One header or simple line: buf[start] is its type, lfAt its LF (the CR before it is not content). */
  private line(buf: Buffer, start: number, lfAt: number): void {
    const end = lfAt > start && buf[lfAt - 1] === CR ? lfAt - 1 : lfAt;
    if (end <= start) throw new RespProtocolError('an empty line');
    const type = buf[start];
    switch (type) {
      case 0x24: // '$' bulk string
        return this.startBulk(integer(buf, start + 1, end));
      case 0x2a: // '*' array
        return this.startArray(integer(buf, start + 1, end));
      case 0x3a: // ':' integer
        return this.value(integer(buf, start + 1, end));
      case 0x2b: // '+' simple string
        return this.value(buf.toString('latin1', start + 1, end));
      case 0x2d: // '-' error
        return this.value(new RespError(buf.toString('utf8', start + 1, end)));
      default:
        throw new RespProtocolError(`unexpected type byte 0x${(type ?? 0).toString(16)}`);
    }
  }

  private startBulk(length: number): void {
    if (length === -1) return this.value(null);
    if (length < 0) throw new RespProtocolError(`bulk length ${length}`);
    if (length > this.maxBulkBytes) this.skipping = new TooLarge(length);
    else this.bulk = Buffer.allocUnsafe(length);
    this.bulkFilled = 0;
    this.bulkLeft = length + 2;
  }

  private fillBulk(buf: Buffer, pos: number, end: number): number {
    const take = Math.min(this.bulkLeft, end - pos);
    const bulk = this.bulk;
    if (bulk !== null && this.bulkFilled < bulk.length) {
      const content = Math.min(take, bulk.length - this.bulkFilled);
      buf.copy(bulk, this.bulkFilled, pos, pos + content);
      this.bulkFilled += content;
    }
    this.bulkLeft -= take;
    if (this.bulkLeft === 0) {
      const done = this.skipping ?? bulk!;
      this.bulk = null;
      this.skipping = null;
      this.value(done);
    }
    return pos + take;
  }

  private startArray(length: number): void {
    if (length === -1) return this.value(null);
    if (length < 0) throw new RespProtocolError(`array length ${length}`);
    if (length === 0) return this.value([]);
    if (this.arrays.length >= MAX_DEPTH) throw new RespProtocolError('arrays nested too deep');
    this.arrays.push({ items: [], remaining: length });
  }

  private value(v: RespValue): void {
    const top = this.arrays[this.arrays.length - 1];
    if (top === undefined) return this.onReply(v);
    top.items.push(v);
    if (--top.remaining > 0) return;
    this.arrays.pop();
    this.value(top.items);
  }
}

/** The decimal integer in buf[start, end), without a string. */
function integer(buf: Buffer, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  if (i >= end || end - i > 15) throw new RespProtocolError('a bad length or integer');
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) throw new RespProtocolError('a bad length or integer');
    n = n * 10 + d;
  }
  return negative ? -n : n;
}
