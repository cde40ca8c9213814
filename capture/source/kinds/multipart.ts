/**
 * A push parser for multipart/x-mixed-replace, the way MJPEG cameras and streamers (ffmpeg's mpjpeg,
 * mjpg-streamer, µStreamer, camfan's own gateway) send it. Cameras bend the RFC, so it accepts: a
 * boundary declared with or without its leading "--", parts with or without Content-Length, LF-only line
 * ends, and padding after the JPEG. A part that is too large, has no end or has an unreadable header is
 * reported and skipped; the parser then finds the next boundary and goes on. It never holds more than
 * about one part (maxPartBytes) in memory.
 */

export interface Part {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface PartEvents {
  part(part: Part): void;
  /** A part that was skipped, and why. */
  broken(reason: string): void;
}

const MAX_HEADER_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** The boundary named by a Content-Type header, or null when it is not multipart/x-mixed-replace with one. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^\s*multipart\/x-mixed-replace\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const raw = m ? (m[1] ?? m[2])! : null;
  if (!raw) return null;
  // Declared as "--name" by many cameras, which then write "--name" (not "----name") as the delimiter.
  return raw.replace(/^--/, '');
}

/**
 * For servers that send MJPEG under another Content-Type (ffmpeg's HTTP server says
 * application/octet-stream unless told otherwise): the boundary of a body that starts like a multipart
 * JPEG stream ("--name", then a part header naming image/jpeg), or null.
 */
export function sniffBoundary(head: Buffer): string | null {
  const text = head.toString('latin1', 0, Math.min(head.length, 1024));
  const m = /^(?:\r?\n)*--([!-~]{1,70})\r?\n/.exec(text);
  if (!m || !/\ncontent-type:\s*image\/jpeg/i.test(text)) return null;
  return m[1]!;
}

type State =
  | { kind: 'seek' }
  | { kind: 'head' }
  | { kind: 'sized'; headers: Record<string, string>; body: Buffer; filled: number }
  /** A part without Content-Length: its bytes so far (no delimiter in them), kept as they came. */
  | { kind: 'open'; headers: Record<string, string>; chunks: Buffer[]; bytes: number }
  | { kind: 'skip'; left: number };

export class MultipartParser {
  private readonly token: Buffer;
  private buf: Buffer = EMPTY;
  private state: State = { kind: 'seek' };
  /** Bytes discarded since the last boundary while looking for one. */
  private sought = 0;

  constructor(
    boundary: string,
    private readonly maxPartBytes: number,
    private readonly events: PartEvents,
  ) {
    this.token = Buffer.from(`--${boundary}`, 'latin1');
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.step());
  }

  /** Advances by one state; false when it needs more bytes. */
  private step(): boolean {
    const s = this.state;
    switch (s.kind) {
      case 'seek':
        return this.seekBoundary();
      case 'head':
        return this.readHead();
      case 'sized':
        return this.fillSized(s);
      case 'open':
        return this.readOpen(s);
      case 'skip': {
        const n = Math.min(s.left, this.buf.length);
        this.buf = this.buf.subarray(n);
        s.left -= n;
        if (s.left > 0) return false;
        this.state = { kind: 'seek' };
        return true;
      }
    }
  }

  private seekBoundary(): boolean {
    const at = this.buf.indexOf(this.token);
    if (at < 0) {
      // Keep a tail that might be the start of a boundary cut in two.
      const kept = Math.min(this.buf.length, this.token.length);
      this.sought += this.buf.length - kept;
      this.buf = this.buf.subarray(this.buf.length - kept);
      // Bytes that never hold a boundary are discarded as they come, but a camera sending only those
      // must be reported, or its viewers see "no signal" with nothing in the log to say why.
      if (this.sought > this.maxPartBytes) {
        this.sought -= this.maxPartBytes;
        this.events.broken(`no boundary within MAX_FRAME_BYTES (${this.maxPartBytes})`);
      }
      return false;
    }
    this.sought = 0;
    this.buf = this.buf.subarray(at + this.token.length);
    this.state = { kind: 'head' };
    return true;
  }

  private readHead(): boolean {
    const m = /\r?\n\r?\n/.exec(this.buf.toString('latin1', 0, Math.min(this.buf.length, MAX_HEADER_BYTES)));
    if (!m) {
      if (this.buf.length < MAX_HEADER_BYTES) return false;
      return this.skipBroken(`no end of part headers within ${MAX_HEADER_BYTES} bytes`);
    }
    const headers = parseHeaders(this.buf.toString('latin1', 0, m.index));
    this.buf = this.buf.subarray(m.index + m[0].length);
    const type = headers['content-type'];
    if (type !== undefined && !/^\s*image\/jpeg\b/i.test(type)) return this.skipBroken(`part of type ${JSON.stringify(type.slice(0, 40))}, not image/jpeg`);
    const length = headers['content-length'];
    if (length === undefined) {
      this.state = { kind: 'open', headers, chunks: [], bytes: 0 };
      return true;
    }
    const n = /^\d{1,12}$/.test(length.trim()) ? Number(length) : NaN;
    if (!Number.isSafeInteger(n) || n < 4) return this.skipBroken(`bad Content-Length ${JSON.stringify(length.slice(0, 20))}`);
    if (n > this.maxPartBytes) {
      this.events.broken(`part of ${n} bytes is larger than MAX_FRAME_BYTES (${this.maxPartBytes})`);
      this.state = { kind: 'skip', left: n };
      return true;
    }
    this.state = { kind: 'sized', headers, body: Buffer.allocUnsafe(n), filled: 0 };
    return true;
  }

  /** Copies straight into the part's own buffer: a large frame is not re-concatenated per chunk. */
  private fillSized(s: Extract<State, { kind: 'sized' }>): boolean {
    const n = this.buf.copy(s.body, s.filled, 0, Math.min(this.buf.length, s.body.length - s.filled));
    s.filled += n;
    this.buf = this.buf.subarray(n);
    if (s.filled < s.body.length) return false;
    this.emit(s.headers, s.body);
    this.state = { kind: 'seek' };
    return true;
  }

  /**
   * Looks for the delimiter only in the bytes that came since the last look (and the few before them that
   * could hold its start), and joins the part once, at its end: the work is linear in the part's bytes,
   * where joining and searching the whole part at every chunk was quadratic in it.
   */
  private readOpen(s: Extract<State, { kind: 'open' }>): boolean {
    if (this.buf.length === 0) return false;
    const seam = tailOf(s.chunks, this.token.length - 1);
    const hay = seam.length > 0 ? Buffer.concat([seam, this.buf]) : this.buf;
    const at = hay.indexOf(this.token);
    if (at >= 0) {
      const end = s.bytes - seam.length + at;
      const body = Buffer.concat([...s.chunks, this.buf]).subarray(0, end);
      this.buf = hay.subarray(at);
      this.emit(s.headers, body);
      this.state = { kind: 'seek' };
      return true;
    }
    s.chunks.push(this.buf);
    s.bytes += this.buf.length;
    this.buf = EMPTY;
    if (s.bytes <= this.maxPartBytes + this.token.length) return false;
    // What is left may hold the start of the next delimiter: the seek keeps it.
    this.buf = tailOf(s.chunks, this.token.length);
    return this.skipBroken(`part without Content-Length and no boundary within MAX_FRAME_BYTES (${this.maxPartBytes})`);
  }

  private skipBroken(reason: string): boolean {
    this.events.broken(reason);
    this.state = { kind: 'seek' };
    return true;
  }

  private emit(headers: Record<string, string>, body: Buffer): void {
    this.events.part({ headers, body: trimPadding(body) });
  }
}

/** The last n bytes of the chunks (fewer if they hold fewer). */
function tailOf(chunks: readonly Buffer[], n: number): Buffer {
  const parts: Buffer[] = [];
  let need = n;
  for (let i = chunks.length - 1; i >= 0 && need > 0; i--) {
    const c = chunks[i]!;
    parts.unshift(c.length > need ? c.subarray(c.length - need) : c);
    need -= Math.min(need, c.length);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/** The CR/LF (and the odd space) between a JPEG's EOI and the next delimiter is not part of the picture. */
function trimPadding(body: Buffer): Buffer {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d || body[end - 1] === 0x20)) end--;
  return end === body.length ? body : body.subarray(0, end);
}
