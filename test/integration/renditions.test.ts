/**
 * Renditions (smaller pictures for small tiles) with real parts: redis-server, capture processes (a 1280×720 test pattern
 * that transcodes, and an HTTP MJPEG camera passed through by the capture process), two gateways, real
 * HTTP clients. A rendition is encoded once, by the capture, only while some gateway watches it or for a
 * few seconds after a snapshot asked for it, and stops within seconds of its last viewer anywhere leaving.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { CameraInfo } from '../../bus/bus.js';
import { inspectJpeg } from '../../capture/source/kinds/jpeg.js';
import { fetchJson, openStream, type Part, type StreamClient } from '../../harness/mjpeg-client.js';
import { makeJpegs, startCamera, withoutCamfanComment, type FakeCamera } from '../../harness/mjpeg-camera.js';
import { cameraEntry, childPids, sleep, waitFor, type Proc } from '../../harness/procs.js';
import { withStack, type GatewayHandle, type RedisHandle } from '../helpers/stack.js';

const size = (p: Part | Buffer): [number, number] => {
  const { width, height } = inspectJpeg(withoutCamfanComment(Buffer.isBuffer(p) ? p : p.jpeg));
  return [width, height];
};
const meanBytes = (parts: Part[]): number => parts.reduce((s, p) => s + p.jpeg.length, 0) / Math.max(1, parts.length);

describe('renditions', () => {
  let redis: RedisHandle;
  let a: GatewayHandle;
  let b: GatewayHandle;
  let camera: FakeCamera;
  let jpegs: Buffer[];
  const streams: StreamClient[] = [];

  after(async () => {
    for (const s of streams) s.close();
  });
  const stack = withStack(async () => {
    jpegs = makeJpegs(30, '1280x720');
    camera = await startCamera({ jpegs, fps: 15 });
    const common = { RENDITION_WIDTHS: '320,640,1280' };
    return {
      captures: [
        { ...common, CAMERA_ID: 'cam0', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '1280', CAPTURE_HEIGHT: '720', CAPTURE_FPS: '30', IDLE_FPS: '1' },
        {
          ...common,
          CAMERA_ID: 'ipcam',
          CAPTURE_SOURCE: `http://127.0.0.1:${camera.port}/video`,
          CAPTURE_WIDTH: 'source',
          CAPTURE_HEIGHT: 'source',
          IDLE_FPS: '1',
          DROP_SAME_FRAMES: 'off',
        },
      ],
      gateways: [
        { ...common, UNSUBSCRIBE_LINGER_MS: '200' },
        { ...common, UNSUBSCRIBE_LINGER_MS: '200' },
      ],
    };
  });
  const procs: Proc[] = stack.captures;
  after(() => camera?.close());

  before(async () => {
    ({ redis } = stack);
    [a, b] = stack.gateways as [GatewayHandle, GatewayHandle];
    for (const g of [a, b]) for (const c of ['cam0', 'ipcam']) await waitFor(`${g.base} to know ${c}`, async () => (await info(g, c)) !== undefined);
  });

  const info = async (g: GatewayHandle, id: string): Promise<CameraInfo | undefined> =>
    (await fetchJson<{ cameras: CameraInfo[] }>(`${g.base}/api/cameras`)).body.cameras.find((c) => c.camera === id);
  /** What the capture announced last, straight from Redis (not a gateway's cached list). */
  const announced = async (id: string): Promise<CameraInfo> => ((await cameraEntry(redis.client(), id)) ?? {}) as CameraInfo;
  const open = (url: string): StreamClient => {
    const s = openStream(url);
    streams.push(s);
    return s;
  };
  const noRenditions = (id: string, timeoutMs: number): Promise<boolean> =>
    waitFor(`${id}: no rendition encoded`, async () => ((await announced(id)).renditions ?? []).length === 0, timeoutMs, 100);

  test('/snapshot/cam0?width=N of a 1280x720 camera nobody watches is a JPEG N wide, made on demand', async () => {
    for (const [width, expected] of [
      [320, [320, 180]],
      [600, [640, 360]],
      [5000, [1280, 720]],
    ] as const) {
      const t0 = Date.now();
      const r = await fetch(`${a.base}/snapshot/cam0?width=${width}`);
      assert.equal(r.status, 200, `width=${width}: ${r.status}`);
      assert.deepEqual(size(Buffer.from(await r.arrayBuffer())), expected, `width=${width}`);
      console.log(`# snapshot width=${width}: ${expected.join('x')} after ${Date.now() - t0} ms`);
    }
  });

  test('/stream/cam0?width=320 runs at the camera rate with parts under a third of the full size, and /api/cameras lists it', async () => {
    await noRenditions('cam0', 10000); // the snapshots' wake-ups have expired: this viewer alone asks for it
    const full = open(`${a.base}/stream/cam0`);
    await waitFor('full-size frames', () => full.count >= 30, 10000);
    full.close();
    const small = open(`${a.base}/stream/cam0?width=320`);
    await waitFor('first 320 frame', () => small.count >= 1, 5000);
    await sleep(1000);
    const n0 = small.count;
    const t0 = Date.now();
    await sleep(5000);
    const window = small.parts.slice(n0);
    const fps = (window.length * 1000) / (Date.now() - t0);
    const listed = (await info(a, 'cam0'))!;
    small.close();
    assert.deepEqual(small.invalid, []);
    for (const p of small.parts) assert.deepEqual(size(p), [320, 180]);
    // A rendition frame carries the seq of the camera frame it was made from: the camera's own frames in
    // the window are the seq span, whatever rate a loaded machine lets the test pattern reach.
    const cameraFrames = window.at(-1)!.seq! - window[0]!.seq! + 1;
    const ratio = meanBytes(small.parts) / meanBytes(full.parts);
    console.log(
      `# 320 rendition: ${fps.toFixed(1)} fps, ${window.length} of the camera's ${cameraFrames} frames; ${meanBytes(small.parts).toFixed(0)} B/part against ${meanBytes(full.parts).toFixed(0)} B full size (${(100 * ratio).toFixed(0)} %)`,
    );
    assert.ok(window.length >= cameraFrames * 0.9, `the rendition carried ${window.length} of the camera's ${cameraFrames} frames`);
    assert.ok(fps >= 30 * 0.6, `${fps.toFixed(1)} fps at 320 wide: the camera runs at 30 while anyone watches any of its pictures`);
    assert.ok(ratio < 1 / 3, `rendition parts are ${(100 * ratio).toFixed(0)} % of the full size`);
    assert.equal(listed.idle, false, 'a rendition viewer keeps the camera at full rate');
    assert.deepEqual(
      listed.renditions?.map((r) => [r.width, r.height]),
      [[320, 180]],
    );
    assert.ok(listed.renditions![0]!.fps >= 20 && listed.renditions![0]!.lastFrameBytes > 0, JSON.stringify(listed.renditions));
  });

  test('a rendition is encoded while a viewer on either gateway watches it, and stops within seconds of the last one leaving', async () => {
    await noRenditions('cam0', 10000);
    const onA = open(`${a.base}/stream/cam0?width=320`);
    const onB = open(`${b.base}/stream/cam0?width=320`);
    await waitFor('frames on both gateways', () => onA.count > 5 && onB.count > 5, 8000);
    await sleep(5500); // past the wake-up hold: from here only the subscriptions keep it encoded
    onA.close();
    const bBefore = onB.count;
    await sleep(3500);
    assert.ok(onB.count - bBefore >= 3.5 * 30 * 0.7, `B still receives the rendition (${onB.count - bBefore} frames in 3.5 s)`);
    assert.deepEqual(
      (await announced('cam0')).renditions?.map((r) => r.width),
      [320],
      'still encoded for B',
    );
    onB.close();
    const t0 = Date.now();
    await noRenditions('cam0', 6000);
    console.log(`# the capture stopped the rendition ${Date.now() - t0} ms after its last viewer left`);
    const key = 'camfan:{cam0}:latest:w320';
    // Nothing published any more: the latest-frame key expires (LATEST_TTL_MS, 3 s).
    await waitFor('the 320 latest-frame key to expire', async () => (await redis.client().exists(key)) === 0, 6000, 100);
    console.log(`# rendition stopped ${Date.now() - t0} ms after its last viewer left (key expired)`);
    assert.match(procs[0]!.output(), /no rendition watched: encoding none/);
  });

  test("an HTTP MJPEG camera passed through: renditions from a worker fed with its JPEGs, the full size still the camera's bytes", async () => {
    const capture = procs[1]!;
    assert.deepEqual(childPids(capture.child.pid!), [], 'no child process before a rendition is watched');
    // Cold: the snapshot's wake-up starts the rendition worker (a fork, OpenCV's load) within the gateway's 1.5 s wait.
    const t0 = Date.now();
    const cold = await fetch(`${a.base}/snapshot/ipcam?width=320`);
    assert.equal(cold.status, 200, await cold.clone().text());
    assert.deepEqual(size(Buffer.from(await cold.arrayBuffer())), [320, 180]);
    console.log(`# cold snapshot of a passed-through camera's rendition: ${Date.now() - t0} ms`);
    const small = open(`${a.base}/stream/ipcam?width=320`);
    const full = open(`${b.base}/stream/ipcam?framing=classic`);
    await waitFor('320 frames from the passthrough camera', () => small.count >= 40 && full.count >= 40, 15000);
    const snap = await fetch(`${a.base}/snapshot/ipcam?width=640`);
    assert.deepEqual(size(Buffer.from(await snap.arrayBuffer())), [640, 360]);
    const listed = (await info(a, 'ipcam'))!;
    const workers = childPids(capture.child.pid!);
    assert.equal(workers.length, 1, 'one rendition worker');
    // The worker crashing: reported, replaced about 2 s later, and the full size never stops meanwhile.
    process.kill(workers[0]!, 'SIGKILL');
    const [smallAtKill, fullAtKill] = [small.count, full.count];
    const before = small.parts.slice(0, smallAtKill);
    const fps = (before.length - 1) / ((before.at(-1)!.receivedAt - before[0]!.receivedAt) / 1000);
    await waitFor('a new worker', () => childPids(capture.child.pid!).some((p) => p !== workers[0]), 8000);
    await waitFor('renditions again', () => small.count >= smallAtKill + 15, 8000);
    assert.ok(full.count - fullAtKill >= 30, `the full size went on (${full.count - fullAtKill} frames meanwhile)`);
    assert.match(capture.output(), /rendition worker ended; a new one starts with a later frame/);
    small.close();
    full.close();
    assert.deepEqual(small.invalid, []);
    // A worker that takes longer than LIVE_TIMEOUT_MS to come back (a loaded machine) leaves the stream
    // a NO SIGNAL placeholder or two meanwhile, at the placeholder's own size; every picture is 320 wide.
    const pictures = small.parts.filter((p) => !p.jpeg.toString('latin1', 6, 120).includes(' nosignal'));
    assert.ok(pictures.length >= small.parts.length - 3, `${small.parts.length - pictures.length} placeholders`);
    for (const p of pictures) assert.deepEqual(size(p), [320, 180]);
    const served = new Set(jpegs.map((j) => j.toString('base64')));
    assert.ok(
      full.parts.every((p) => served.has(withoutCamfanComment(p.jpeg).toString('base64'))),
      "the full size is the camera's bytes",
    );
    assert.equal(listed.mode, 'passthrough');
    assert.ok(
      listed.renditions?.some((r) => r.width === 320 && r.height === 180),
      JSON.stringify(listed.renditions),
    );
    console.log(`# passthrough camera at 15 fps: 320 rendition ${fps.toFixed(1)} fps, ${meanBytes(small.parts).toFixed(0)} B/part`);
    assert.ok(fps >= 15 * 0.8, `${fps.toFixed(1)} fps`);
    assert.ok(!/opencv/i.test(readFileSync(`/proc/${capture.child.pid}/maps`, 'utf8')), 'OpenCV stays out of the capture process');
    const replacement = childPids(capture.child.pid!);
    assert.equal(replacement.length, 1, 'one worker again');
    assert.ok(/opencv/i.test(readFileSync(`/proc/${replacement[0]}/maps`, 'utf8')), 'the worker has it');
    await noRenditions('ipcam', 10000);
  });
});
