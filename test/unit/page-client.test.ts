/**
 * The page's pure parts, in Node: the layout chooser (layout.ts) and how the page tells the gateway's NO
 * SIGNAL placeholder from a camera frame on the WebSocket (wire.ts reading what packet.ts sends).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FramePacket } from '../../gateway/delivery/packet.js';
import { renderNoSignal } from '../../gateway/no-signal/placeholder.js';

/**
 * The client is ES modules made for browsers, in a folder Node takes for CommonJS (dist has no package.json
 * saying otherwise): loaded as the browser gets them. Both modules import nothing.
 */
function clientModule<T>(name: string): Promise<T> {
  const source = readFileSync(path.join(__dirname, '..', '..', 'gateway', 'page', 'client', `${name}.js`), 'utf8');
  return import(`data:text/javascript,${encodeURIComponent(source)}`) as Promise<T>;
}
const layout = clientModule<typeof import('../../gateway/page/client/layout.js', { with: { 'resolution-mode': 'import' }})>('layout');
const wire = clientModule<typeof import('../../gateway/page/client/wire.js', { with: { 'resolution-mode': 'import' }})>('wire');

const arrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;

test('auto layout: 8 mixed cameras at 1920×1080 take 3 columns; one camera takes the whole screen', async () => {
  const { chooseShape } = await layout;
  const mixed = [16 / 9, 4 / 3, 16 / 9, 4 / 3, 16 / 9, 4 / 3, 16 / 9, 4 / 3];
  assert.equal(chooseShape('auto', mixed, 1912, 1030, 4).columns, 3);
  assert.deepEqual(chooseShape('auto', [16 / 9], 1912, 1030, 4), { columns: 1, rowHeight: 1030 });
  assert.equal(chooseShape('3', mixed, 1912, 1030, 4).columns, 3);
  // A phone never gets tiles narrower than 150 px: it scrolls instead.
  assert.equal(chooseShape('auto', Array(16).fill(16 / 9), 382, 760, 4).columns, 2);
});

test('placeholders are recognised on the WebSocket; camera frames are not taken for them', async () => {
  const { decodeMessage } = await wire;
  const jpeg = renderNoSignal(12000);
  const frame = { camera: 'cam3', seq: 41, timestamp: Date.now(), width: 640, height: 360, jpeg };
  const placeholder = decodeMessage(arrayBuffer(new FramePacket(frame, true).message()))!;
  const real = decodeMessage(arrayBuffer(new FramePacket(frame, false).message()))!;
  assert.deepEqual([placeholder.camera, placeholder.seq, placeholder.placeholder], ['cam3', 41, true]);
  assert.deepEqual([real.camera, real.seq, real.placeholder], ['cam3', 41, false]);
  assert.equal(real.jpeg.length, jpeg.length, 'camera frames go out as they came');
});
