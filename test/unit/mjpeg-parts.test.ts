/** harness/mjpeg-parts.ts, the reader the tests' client and the Node load client share, on parts the gateway builds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADVANCE_PREAMBLE, FramePacket, type Framing } from '../../gateway/delivery/packet.js';
import { MjpegPartReader, type ReadPart } from '../../harness/mjpeg-parts.js';
import { testFrame } from '../helpers/in-memory.js';

const T0 = 1_700_000_000_123.456;

function stream(framing: Framing, count: number): Buffer {
  const frames = Array.from({ length: count }, (_, i) => testFrame('cam', i + 1, { timestamp: T0 + i, payload: Buffer.alloc(100 + i * 37, i) }));
  const parts = frames.map((f) => new FramePacket(f).part(framing));
  return Buffer.concat(framing === 'advance' ? [ADVANCE_PREAMBLE, ...parts] : parts);
}

/** Feeds the bytes in pieces of the given sizes (cycled), as a socket might deliver them. */
interface Read {
  parts: ReadPart[];
  invalid: string[];
  reader: MjpegPartReader;
}

function read(bytes: Buffer, sizes: number[], o: { keepBodies?: boolean; responseHead?: boolean } = {}): Read {
  const parts: ReadPart[] = [];
  const invalid: string[] = [];
  const reader = new MjpegPartReader({ ...o, onPart: (p) => parts.push(p), onInvalid: (r) => invalid.push(r) });
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    reader.push(bytes.subarray(at, at + n));
    at += n;
  }
  return { parts, invalid, reader };
}

const SPLITS = [[1], [2, 3], [7], [15, 1, 16], [64], [1000], [1 << 20]];

test('classic framing, in any chunking: every part, its size, capture time and sequence number; nothing left over', () => {
  const bytes = stream('classic', 5);
  for (const sizes of SPLITS) {
    for (const keepBodies of [true, false]) {
      const { parts, invalid, reader } = read(bytes, sizes, { keepBodies });
      assert.deepEqual(invalid, [], `chunks ${sizes.join(',')}`);
      assert.deepEqual(
        parts.map((p) => p.seq),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        parts.map((p) => Math.round((p.timestamp! - T0) * 1000)),
        [0, 1000, 2000, 3000, 4000],
        'X-Timestamp, to the microsecond',
      );
      assert.equal(parts[0]!.headers['content-type'], 'image/jpeg');
      assert.equal(parts[0]!.bytes, Number(parts[0]!.headers['content-length']));
      assert.equal(parts[4]!.jpeg === null, !keepBodies);
      if (keepBodies) assert.equal(parts[4]!.jpeg!.length, parts[4]!.bytes);
      assert.equal(reader.buffered, 0);
    }
  }
});

test('advance framing: parts end at the next delimiter; the capture time comes from the JPEG comment', () => {
  const bytes = stream('advance', 4);
  for (const sizes of SPLITS) {
    const { parts, invalid, reader } = read(bytes, sizes, { keepBodies: true });
    assert.deepEqual(invalid, [], `chunks ${sizes.join(',')}`);
    assert.deepEqual(
      parts.map((p) => p.seq),
      [1, 2, 3, 4],
      'each write ends with the next delimiter: the part is whole at once',
    );
    assert.deepEqual(
      parts.map((p) => Math.round(p.timestamp! - T0)),
      [0, 1, 2, 3],
    );
    assert.ok(parts.every((p) => p.jpeg![0] === 0xff && p.jpeg!.at(-1) === 0xd9));
    assert.equal(reader.buffered, ADVANCE_PREAMBLE.length, "what is left is the next part's header block");
  }
});

test('a raw socket: the HTTP response head is skipped', () => {
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=camfanframe\r\n\r\n');
  const { parts, invalid, reader } = read(Buffer.concat([head, stream('classic', 2)]), [5], { responseHead: true });
  assert.deepEqual(invalid, []);
  assert.equal(parts.length, 2);
  assert.equal(reader.buffered, 0);
});

test('every departure from the framing is reported, naming the part', () => {
  const good = stream('classic', 3);
  const part0 = new FramePacket(testFrame('cam', 1, { timestamp: T0 })).part('classic');
  // A body that is not a whole JPEG: its last byte is not EOI.
  const noEoi = Buffer.from(part0);
  noEoi[noEoi.length - 3] = 0x00;
  const length = Number(/Content-Length: (\d+)/.exec(part0.toString('latin1'))![1]);
  assert.deepEqual(read(Buffer.concat([noEoi, good]), [9]).invalid, [`part 0: not a whole JPEG (${length} bytes)`]);
  // Content-Length one short: the CRLF check catches it, and the next headers do not start with the boundary.
  const shortened = part0.toString('latin1').replace(/Content-Length: (\d+)/, (_, n: string) => `Content-Length: ${Number(n) - 1}`);
  const short = Buffer.from(shortened, 'latin1');
  const r = read(Buffer.concat([short, good]), [4]);
  assert.ok(
    r.invalid.some((m) => /^part 0: (not a whole JPEG|Content-Length \d+ does not end at CRLF)/.test(m)),
    r.invalid.join(' / '),
  );
  assert.ok(
    r.invalid.some((m) => /bytes before the boundary/.test(m)),
    r.invalid.join(' / '),
  );
  // Bytes where a part should start.
  assert.deepEqual(read(Buffer.concat([Buffer.from('junk'), good]), [1000]).invalid, ['part 0: 4 bytes before the boundary']);
  const badLength = Buffer.from('--camfanframe\r\nContent-Length: 12x\r\n\r\n');
  assert.deepEqual(read(badLength, [1000]).invalid, ['part 0: Content-Length "12x" is not a number']);
  // A part without a capture time reads as one (the load client counts it invalid).
  const bare = Buffer.concat([Buffer.from('--camfanframe\r\nContent-Length: 4\r\n\r\n'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]), Buffer.from('\r\n')]);
  const b = read(bare, [3]);
  assert.deepEqual(b.invalid, []);
  assert.equal(b.parts[0]!.timestamp, null);
});
