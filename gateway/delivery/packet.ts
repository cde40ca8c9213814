/**
 * One frame as every transport sends it, built once per frame and shared by all its viewers: the MJPEG
 * part in either framing, and the WebSocket message.
 *
 * Framing. Chromium paints a multipart part only once the *next* delimiter and its header block have
 * arrived (measured in test/browser/page.test.ts), so the classic layout (headers, JPEG) shows every frame one frame
 * interval late. Browsers therefore get "advance" framing: each write is the JPEG followed at once by the
 * next delimiter and a complete header block (µStreamer's advance headers). That block cannot know the
 * next frame's size or time, so the capture timestamp also travels inside the JPEG (a COM segment right
 * after SOI). Tools that want Content-Length and X-Timestamp per part (ffmpeg, OpenCV, our load client)
 * get "classic" framing: by default when the client is not a browser, or with ?framing=classic.
 */
import { encodeFrame, type Frame } from '../../bus/frame.js';

export const BOUNDARY = 'camfanframe';
export const STREAM_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;
export type Framing = 'advance' | 'classic';

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

let packetsMade = 0;

/** One frame, with its parts built lazily and at most once per framing, shared by every viewer. */
export class FramePacket {
  /** The order in which this gateway made its packets: a viewer only ever moves forward in it. */
  readonly order = ++packetsMade;
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
    // A placeholder carries its " nosignal" comment on the WebSocket too: the page must not count it as a camera frame.
    this.wsMessage ??= encodeFrame(this.placeholder ? { ...this.frame, jpeg: this.build(null, Buffer.alloc(0)) } : this.frame);
    return this.wsMessage;
  }

  part(framing: Framing): Buffer {
    if (framing === 'advance') {
      this.advancePart ??= this.build(null, ADVANCE_TAIL);
      return this.advancePart;
    }
    this.classicPart ??= this.build(this.classicHead(), CRLF);
    return this.classicPart;
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
