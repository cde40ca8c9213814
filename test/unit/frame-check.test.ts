/** gateway/delivery/frame-check.ts: what the gateway refuses from the bus, counted per reason and logged once per camera and reason. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameCheck } from '../../gateway/delivery/frame-check.js';
import { BOUNDARY } from '../../gateway/delivery/packet.js';
import { captureLog, testFrame } from '../helpers/in-memory.js';

test('too large, stamped in the future, or carrying the stream delimiter: refused, counted, logged once per camera and reason', () => {
  const { log, messages } = captureLog();
  const check = new FrameCheck({ maxFrameBytes: 100, maxClockSkewMs: 2000, log });
  assert.ok(check.accepts(testFrame('a', 1, { payload: Buffer.alloc(96) })), '100 bytes is allowed');
  assert.ok(check.accepts(testFrame('a', 2, { timestamp: Date.now() + 1000 })), 'within the clock skew');
  assert.ok(check.accepts(testFrame('a', 3, { payload: Buffer.from(`-${BOUNDARY}`) })), 'the boundary without its two dashes is harmless');

  assert.ok(!check.accepts(testFrame('a', 4, { payload: Buffer.alloc(97) })));
  assert.ok(!check.accepts(testFrame('a', 5, { payload: Buffer.alloc(500) })));
  assert.ok(!check.accepts(testFrame('a', 6, { timestamp: Date.now() + 60_000 })));
  assert.ok(!check.accepts(testFrame('a', 7, { payload: Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Type: text/html\r\n\r\n<script>`) })));
  assert.ok(!check.accepts(testFrame('b', 8, { payload: Buffer.alloc(200) })));
  assert.deepEqual(check.rejected, { too_large: 3, future: 1, boundary: 1 });

  const warnings = messages(/refused a frame from the bus/);
  assert.deepEqual(
    warnings.map((w) => `${w.camera as string}:${w.reason as string}`),
    ['a:too_large', 'a:future', 'a:boundary', 'b:too_large'],
    'once per camera and reason, however many frames',
  );
  assert.ok((warnings[1]!.aheadMs as number) > 50_000, 'says how far ahead the frame was');
});
