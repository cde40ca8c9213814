/**
 * The page's pure parts, in Node: the layout chooser (layout.ts) and how the page tells the gateway's NO
 * SIGNAL placeholder from a camera frame on the WebSocket (wire.ts reading what packet.ts sends).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FramePacket } from '../../gateway/delivery/packet.js';
import { renderNoSignal } from '../../gateway/no-signal/placeholder.js';
import { pageAsset, pageAssetNames } from '../../gateway/page/assets.js';

/**
 * The client is ES modules made for browsers, which import each other (and the modules shared with the
 * server, lib/wire) by the names the gateway serves them under: loaded here from those names, in a folder
 * of their own that says they are ES modules, as the browser gets them from /page/.
 */
const served = mkdtempSync(path.join(tmpdir(), 'camfan-page-'));
writeFileSync(path.join(served, 'package.json'), '{ "type": "module" }');
for (const name of pageAssetNames()) writeFileSync(path.join(served, name), pageAsset(name)!.body);
after(() => rmSync(served, { recursive: true, force: true }));

function clientModule<T>(name: string): Promise<T> {
  return import(pathToFileURL(path.join(served, `${name}.js`)).href) as Promise<T>;
}
const layout = clientModule<typeof import('../../gateway/page/client/layout.js', { with: { 'resolution-mode': 'import' }})>('layout');
const socket = clientModule<typeof import('../../gateway/page/client/socket.js', { with: { 'resolution-mode': 'import' }})>('socket');
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

test('every module the page imports is one the gateway serves under /page/', () => {
  const names = pageAssetNames();
  assert.ok(names.includes('main.js') && names.includes('frame-format.mjs'), 'the client and the shared modules are served');
  const missing = names.flatMap((name) =>
    [
      ...pageAsset(name)!
        .body.toString('utf8')
        .matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm),
    ]
      .map((m) => m[1]!)
      .filter((spec) => !spec.startsWith('./') || pageAsset(spec.slice(2)) === null)
      .map((spec) => `${name} imports ${spec}`),
  );
  assert.deepEqual(missing, []);
});

test('reconnects are jittered: the backoff spread over ±50 %, so pages that lost one gateway do not return at once', async () => {
  const { reconnectDelayMs } = await socket;
  assert.deepEqual([reconnectDelayMs(1000, () => 0), reconnectDelayMs(1000, () => 0.5), reconnectDelayMs(1000, () => 0.999)], [500, 1000, 1499]);
  const delays = Array.from({ length: 1000 }, () => reconnectDelayMs(500));
  assert.ok(Math.min(...delays) >= 250 && Math.max(...delays) <= 750, 'within the spread');
  assert.ok(new Set(delays).size > 100, 'spread, not one instant');
});
