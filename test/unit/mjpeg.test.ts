import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from '../../bus/frame.js';
import { MjpegViewer } from '../../gateway/delivery/mjpeg-viewer.js';
import { ADVANCE_PREAMBLE, chooseFraming, FramePacket, readCommentTimestamp } from '../../gateway/delivery/packet.js';
import type { HttpResponse } from '../../gateway/http/uws.js';

function frame(seq: number, size = 100): Frame {
  const jpeg = Buffer.alloc(size, seq % 256);
  jpeg[0] = 0xff;
  jpeg[1] = 0xd8;
  jpeg[size - 2] = 0xff;
  jpeg[size - 1] = 0xd9;
  return { camera: 'cam0', seq, timestamp: 1_000_000 + seq * 40, width: 2, height: 2, jpeg };
}

function splitJpeg(part: Buffer, start: number, end: number): Buffer {
  return part.subarray(start, end);
}

test('classic part: headers with Content-Length of the body, X-Timestamp in seconds, then JPEG and CRLF', () => {
  const p = new FramePacket(frame(7)).part('classic');
  const text = p.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n') + 4;
  const head = text.slice(0, headEnd);
  assert.match(head, /^--camfanframe\r\nContent-Type: image\/jpeg\r\nContent-Length: (\d+)\r\nX-Timestamp: 1000\.280000\r\n\r\n$/);
  const length = Number(/Content-Length: (\d+)/.exec(head)![1]);
  assert.equal(p.length, headEnd + length + 2);
  assert.equal(text.slice(-2), '\r\n');
  const jpeg = splitJpeg(p, headEnd, headEnd + length);
  assert.equal(readCommentTimestamp(jpeg), 1_000_280);
  assert.deepEqual([jpeg[0], jpeg[1], jpeg[jpeg.length - 2], jpeg[jpeg.length - 1]], [0xff, 0xd8, 0xff, 0xd9]);
});

test('advance part: the JPEG, then at once the next delimiter and a complete header block', () => {
  const p = new FramePacket(frame(3)).part('advance');
  const tail = '\r\n--camfanframe\r\nContent-Type: image/jpeg\r\n\r\n';
  assert.equal(p.toString('latin1').slice(-tail.length), tail);
  assert.deepEqual([p[0], p[1], p[2], p[3]], [0xff, 0xd8, 0xff, 0xfe]);
  assert.equal(ADVANCE_PREAMBLE.toString(), '--camfanframe\r\nContent-Type: image/jpeg\r\n\r\n');
});

test('a part is built once per framing and shared', () => {
  const packet = new FramePacket(frame(1));
  assert.equal(packet.part('classic'), packet.part('classic'));
  assert.equal(packet.part('advance'), packet.part('advance'));
});

test('framing: explicit query wins, browsers get advance, tools get classic, junk is refused', () => {
  assert.equal(chooseFraming(undefined, 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156'), 'advance');
  assert.equal(chooseFraming('', 'Lavf/59.27.100'), 'classic');
  assert.equal(chooseFraming('classic', 'Mozilla/5.0'), 'classic');
  assert.equal(chooseFraming('advance', 'curl/8'), 'advance');
  assert.equal(chooseFraming('bogus', 'curl/8'), null);
});

/** A stand-in for uWS's HttpResponse: a socket that accepts `capacity` bytes until drained. */
class FakeResponse {
  written: Buffer[] = [];
  offset = 0;
  capacity = Infinity;
  writable: (() => boolean) | null = null;
  writeStatus(): this {
    return this;
  }
  writeHeader(): this {
    return this;
  }
  cork(fn: () => void): this {
    fn();
    return this;
  }
  onWritable(fn: () => boolean): this {
    this.writable = fn;
    return this;
  }
  getWriteOffset(): number {
    return this.offset;
  }
  tryEnd(chunk: Buffer): [boolean, boolean] {
    const n = Math.min(chunk.length, this.capacity);
    this.written.push(Buffer.from(chunk.subarray(0, n)));
    this.offset += n;
    this.capacity -= n;
    return [n === chunk.length, false];
  }
  close(): this {
    return this;
  }
  drainAll(): boolean {
    this.capacity = Infinity;
    return this.writable!();
  }
  bytes(): Buffer {
    return Buffer.concat(this.written);
  }
}

test('latest frame wins: while backpressured only the newest frame waits, and every part arrives whole', () => {
  const res = new FakeResponse();
  const v = new MjpegViewer(res as unknown as HttpResponse, 'cam0', 'classic');
  v.begin([]);
  res.capacity = 150; // the first part only partly fits
  const packets = [1, 2, 3, 4].map((s) => new FramePacket(frame(s)));
  for (const p of packets) v.offer(p);
  assert.equal(v.dropped, 2, 'frames 2 was replaced by 3, then 3 by 4');
  assert.equal(res.drainAll(), true);
  const expected = Buffer.concat([packets[0]!.part('classic'), packets[3]!.part('classic')]);
  assert.deepEqual(res.bytes(), expected);
  assert.equal(v.delivered, 2);
});

test('a packet older than the last one offered is ignored, and the same packet is sent once', () => {
  const res = new FakeResponse();
  const v = new MjpegViewer(res as unknown as HttpResponse, 'cam0', 'advance');
  v.begin([]);
  const older = new FramePacket(frame(4)); // e.g. the latest frame read from Redis while a live one arrived
  const newer = new FramePacket(frame(5));
  v.offer(newer);
  v.offer(older);
  v.offer(newer);
  assert.equal(v.delivered, 1);
});

test("order is the gateway's, not the capture timestamp: a frame stamped far in the future does not freeze the viewer", () => {
  const res = new FakeResponse();
  const v = new MjpegViewer(res as unknown as HttpResponse, 'cam0', 'classic');
  v.begin([]);
  v.offer(new FramePacket({ ...frame(1), timestamp: Date.now() + 365 * 86400e3 }));
  v.offer(new FramePacket(frame(2)));
  assert.equal(v.delivered, 2);
});
