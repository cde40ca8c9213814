/** The MJPEG reader's parts: multipart/x-mixed-replace as cameras send it, and the JPEG check of each part. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectJpeg } from '../../capture/source/kinds/jpeg.js';
import { boundaryOf, MultipartParser, sniffBoundary, type Part } from '../../capture/source/kinds/multipart.js';
import { fakeJpeg } from '../helpers/jpeg-bytes.js';

function parse(boundary: string, stream: Buffer, chunkSize = stream.length, max = 1 << 20): { parts: Part[]; broken: string[] } {
  const parts: Part[] = [];
  const broken: string[] = [];
  const p = new MultipartParser(boundary, max, { part: (x) => parts.push(x), broken: (r) => broken.push(r) });
  for (let i = 0; i < stream.length; i += chunkSize) p.push(stream.subarray(i, i + chunkSize));
  return { parts, broken };
}

const a = fakeJpeg(1280, 720);
const b = fakeJpeg(640, 480, { scanBytes: 100 });
const sized = (j: Buffer, nl = '\r\n'): Buffer =>
  Buffer.concat([Buffer.from(`--cam${nl}Content-Type: image/jpeg${nl}Content-Length: ${j.length}${nl}${nl}`), j, Buffer.from(nl)]);
const open = (j: Buffer): Buffer => Buffer.concat([Buffer.from('--cam\r\nContent-Type: image/jpeg\r\n\r\n'), j, Buffer.from('\r\n')]);

test('the JPEG check: whole, size from SOF0 or SOF2, Huffman tables present or not', () => {
  assert.deepEqual(inspectJpeg(a), { width: 1280, height: 720, hasHuffmanTables: true });
  assert.deepEqual(inspectJpeg(fakeJpeg(1920, 1080, { sof: 0xc2 })), { width: 1920, height: 1080, hasHuffmanTables: true });
  assert.equal(inspectJpeg(fakeJpeg(320, 240, { huffman: false })).hasHuffmanTables, false);
  assert.throws(() => inspectJpeg(a.subarray(0, a.length - 5)), /EOI/);
  assert.throws(() => inspectJpeg(a.subarray(2)), /SOI/);
  assert.throws(() => inspectJpeg(Buffer.from('<html>camera</html>')), /SOI/);
  assert.throws(() => inspectJpeg(fakeJpeg(0, 720)), /not usable/);
  const noSof = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0, 1, 2, 0xff, 0xd9]);
  assert.throws(() => inspectJpeg(noSof), /no frame header/);
});

test('Content-Type boundaries as cameras write them', () => {
  assert.equal(boundaryOf('multipart/x-mixed-replace; boundary=camfanframe'), 'camfanframe');
  assert.equal(boundaryOf('multipart/x-mixed-replace;boundary=--myboundary'), 'myboundary');
  assert.equal(boundaryOf('Multipart/X-Mixed-Replace; boundary="a b"'), 'a b');
  assert.equal(boundaryOf('image/jpeg'), null);
  assert.equal(boundaryOf('multipart/x-mixed-replace'), null);
  assert.equal(boundaryOf(undefined), null);
  assert.equal(sniffBoundary(Buffer.from('--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: 9\r\n\r\n')), 'ffmpeg');
  assert.equal(sniffBoundary(Buffer.from('\x00\x00\x01\xb3 an MPEG stream')), null);
  assert.equal(sniffBoundary(Buffer.from('--x\r\nContent-Type: text/html\r\n\r\n')), null);
});

test('parts with Content-Length, whole or cut into chunks of any size, come out byte for byte', () => {
  const stream = Buffer.concat([Buffer.from('preamble\r\n'), sized(a), sized(b), sized(a)]);
  for (const chunk of [stream.length, 1000, 7, 1]) {
    const { parts, broken } = parse('cam', stream, chunk);
    assert.deepEqual(broken, [], `chunk ${chunk}`);
    assert.equal(parts.length, 3, `chunk ${chunk}`);
    assert.ok(parts[0]!.body.equals(a) && parts[1]!.body.equals(b) && parts[2]!.body.equals(a), `chunk ${chunk}`);
    assert.equal(parts[1]!.headers['content-length'], String(b.length));
  }
});

test('parts without Content-Length end at the next boundary; LF-only lines work', () => {
  const { parts, broken } = parse('cam', Buffer.concat([open(a), open(b), Buffer.from('--cam\r\n')]), 13);
  assert.deepEqual(broken, []);
  assert.equal(parts.length, 2);
  assert.ok(parts[0]!.body.equals(a) && parts[1]!.body.equals(b));
  const lf = parse('cam', Buffer.concat([sized(a, '\n'), sized(b, '\n')]), 5);
  assert.equal(lf.parts.length, 2);
  assert.ok(lf.parts[1]!.body.equals(b));
});

test('a part too large, of another type or with a bad length is reported and skipped; the next part arrives', () => {
  const big = fakeJpeg(1280, 720, { scanBytes: 5000 });
  const html = Buffer.from('--cam\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n<b>x</b>\r\n');
  const badLength = Buffer.from('--cam\r\nContent-Type: image/jpeg\r\nContent-Length: lots\r\n\r\nxxxx\r\n');
  const { parts, broken } = parse('cam', Buffer.concat([sized(big), html, badLength, sized(a)]), 64, 2000);
  assert.equal(broken.length, 3, broken.join('; '));
  assert.match(broken[0]!, /larger than MAX_FRAME_BYTES \(2000\)/);
  assert.match(broken[1]!, /text\/html/);
  assert.match(broken[2]!, /bad Content-Length/);
  assert.equal(parts.length, 1);
  assert.ok(parts[0]!.body.equals(a));
});

test('a part without length or end never holds more than MAX_FRAME_BYTES', () => {
  const endless = Buffer.concat([Buffer.from('--cam\r\n\r\n'), Buffer.alloc(50_000, 0x11)]);
  const { parts, broken } = parse('cam', Buffer.concat([endless, open(a), Buffer.from('--cam\r\n')]), 4096, 10_000);
  assert.match(broken[0]!, /no boundary within MAX_FRAME_BYTES/);
  assert.equal(parts.length, 1);
  assert.ok(parts[0]!.body.equals(a));
});

test('a delimiter cut across any number of chunks still ends a part without Content-Length', () => {
  const stream = Buffer.concat([open(a), open(b), Buffer.from('--cam\r\n')]);
  for (const chunk of [1, 2, 3, 6, 64]) {
    const { parts, broken } = parse('cam', stream, chunk);
    assert.deepEqual(broken, [], `chunk ${chunk}`);
    assert.equal(parts.length, 2, `chunk ${chunk}`);
    assert.ok(parts[0]!.body.equals(a) && parts[1]!.body.equals(b), `chunk ${chunk}`);
  }
});

test('a part without Content-Length costs about what a sized one does: linear in its bytes, not quadratic', () => {
  const jpeg = Buffer.concat([a.subarray(0, 2), Buffer.alloc(16 << 20, 0x11), a.subarray(2)]);
  /** Best of three: ms to read the part, in 64 kB chunks. */
  const readMs = (stream: Buffer): number => {
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const { parts } = parse('cam', stream, 64 * 1024, 64 << 20);
      best = Math.min(best, performance.now() - t0);
      assert.equal(parts[0]?.body.length, jpeg.length);
    }
    return best;
  };
  const withLength = readMs(Buffer.concat([sized(jpeg), Buffer.from('--cam\r\n')]));
  const without = readMs(Buffer.concat([open(jpeg), Buffer.from('--cam\r\n')]));
  // Joining and searching the whole part at every chunk made it ~20 times the sized part's time.
  console.log(`# a 16 MB part: ${withLength.toFixed(1)} ms with Content-Length, ${without.toFixed(1)} ms without`);
  assert.ok(without < 5 * withLength + 5, `without Content-Length ${without.toFixed(1)} ms, with ${withLength.toFixed(1)} ms`);
});

test('bytes that never hold a boundary are reported once per MAX_FRAME_BYTES, and the first part after them arrives', () => {
  const junk = Buffer.alloc(35_000, 0x41);
  const { parts, broken } = parse('cam', Buffer.concat([junk, open(a), Buffer.from('--cam\r\n')]), 4096, 10_000);
  assert.equal(broken.length, 3, broken.join('; '));
  assert.match(broken[0]!, /^no boundary within MAX_FRAME_BYTES \(10000\)$/);
  assert.equal(parts.length, 1);
  assert.ok(parts[0]!.body.equals(a));
});
