/**
 * The subscriber's RESP reader (bus/resp-reader.ts): every reply a subscriber connection meets, cut at
 * every byte boundary (a socket may hand the bytes over in any pieces), a bulk string longer than the limit
 * skipped without being kept, and bytes that break the protocol refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RespError, RespProtocolError, RespReader, TooLarge, type RespValue } from '../../bus/resp-reader.js';

const payload = Buffer.concat([
  Buffer.from([0xff, 0xd8]),
  Buffer.from('\r\n$5\r\n*3\r\n:1\r\n-ERR\r\n', 'latin1'),
  Buffer.alloc(300, 7),
  Buffer.from([0xff, 0xd9]),
]);
const bulk = (b: Buffer | string): Buffer => Buffer.concat([Buffer.from(`$${Buffer.byteLength(b)}\r\n`), Buffer.from(b), Buffer.from('\r\n')]);
const stream = Buffer.concat([
  Buffer.from('+OK\r\n'),
  Buffer.from('-WRONGPASS invalid username-password pair\r\n'),
  Buffer.from('*3\r\n'),
  bulk('subscribe'),
  bulk('camfan:{cam0}:frames'),
  Buffer.from(':1\r\n'),
  Buffer.from('*3\r\n'),
  bulk('message'),
  bulk('camfan:{cam0}:frames'),
  bulk(payload),
  Buffer.from('$-1\r\n*0\r\n*-1\r\n'),
  Buffer.from('*2\r\n*1\r\n:-42\r\n$0\r\n\r\n'),
  Buffer.from('*3\r\n'),
  bulk('message'),
  bulk('c'),
  bulk(Buffer.alloc(1000, 1)),
  Buffer.from('+PONG\r\n'),
]);
const expected: RespValue[] = [
  'OK',
  new RespError('WRONGPASS invalid username-password pair'),
  [Buffer.from('subscribe'), Buffer.from('camfan:{cam0}:frames'), 1],
  [Buffer.from('message'), Buffer.from('camfan:{cam0}:frames'), payload],
  null,
  [],
  null,
  [[-42], Buffer.alloc(0)],
  [Buffer.from('message'), Buffer.from('c'), new TooLarge(1000)],
  'PONG',
];

function readAll(pieces: Buffer[], maxBulk = 999): RespValue[] {
  const out: RespValue[] = [];
  const reader = new RespReader((r) => out.push(r), maxBulk);
  // One reused read buffer, as the subscriber's socket uses: the reader must copy what it keeps.
  const scratch = Buffer.alloc(Math.max(...pieces.map((p) => p.length)));
  for (const piece of pieces) {
    piece.copy(scratch);
    reader.push(scratch, 0, piece.length);
    scratch.fill(0xaa);
  }
  return out;
}

test('every reply comes out whole and exact, whatever the cut (all two-piece cuts, and byte by byte)', () => {
  assert.deepEqual(readAll([stream]), expected);
  for (let cut = 1; cut < stream.length; cut++) {
    assert.deepEqual(readAll([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at byte ${cut}`);
  }
  assert.deepEqual(readAll([...stream].map((b) => Buffer.from([b]))), expected);
});

test('a bulk string over the limit is skipped and reported with its size; the next reply is read normally', () => {
  const out = readAll([Buffer.concat([bulk(Buffer.alloc(5000, 3)), Buffer.from(':7\r\n')])], 4999);
  assert.deepEqual(out, [new TooLarge(5000), 7]);
});

test('bytes that break the protocol are refused with a protocol error', () => {
  for (const bad of ['?what\r\n', '$abc\r\n', '*-5\r\n', '$-2\r\n', '\r\n', `+${'x'.repeat(70 * 1024)}`]) {
    const reader = new RespReader(() => undefined, 1000);
    assert.throws(() => reader.push(Buffer.from(bad), 0, bad.length), RespProtocolError, JSON.stringify(bad.slice(0, 20)));
  }
});

test('reset() forgets a half-read reply (a lost connection)', () => {
  const out: RespValue[] = [];
  const reader = new RespReader((r) => out.push(r), 1000);
  const half = Buffer.from('*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$10\r\nabc');
  reader.push(half, 0, half.length);
  reader.reset();
  const next = Buffer.from('+OK\r\n');
  reader.push(next, 0, next.length);
  assert.deepEqual(out, ['OK']);
});
