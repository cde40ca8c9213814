/**
 * Cameras changed at run time: one capture process carries the cameras of a CAMERAS_FILE and follows its
 * edits. Real parts: redis-server, the capture and a gateway as processes, HTTP MJPEG cameras served by
 * harness/mjpeg-camera.ts (passed through: no source process), viewers reading the gateway's streams.
 * Adding, changing, removing an entry and writing invalid ones touch only the camera named, while the
 * viewers of the others never wait more than 200 ms for a frame. Last, an OpenCV camera (the test pattern)
 * in the same process: its source process killed, it is replaced and the other cameras go on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CameraInfo } from '../../bus/bus.js';
import { fetchJson, openStream, type Part, type StreamClient } from '../../harness/mjpeg-client.js';
import { cameraEntry, camerasFileEnv, childPids, startCapture, waitFor, waitForFrames, type Proc } from '../../harness/procs.js';
import { makeJpegs, startCamera, type FakeCamera } from '../../harness/mjpeg-camera.js';
import { withStack } from '../helpers/stack.js';

const isLive = (p: Part): boolean => !p.jpeg.toString('latin1', 6, 120).includes(' nosignal');
const MAX_GAP_MS = 200;

describe('cameras added, changed and removed at run time', () => {
  let camera: FakeCamera;
  let dir: string;
  let file: string;
  let capture: Proc;
  const viewers = new Map<string, StreamClient>();
  const stack = withStack(() => ({ gateways: [{ LIVE_TIMEOUT_MS: '1000' }] }));

  const url = (id: string): string => `http://127.0.0.1:${camera.port}/${id}.mjpg`;
  /** Replaces the file in one rename, as an operator's editor or a deploy tool would. */
  const writeCameras = (entries: unknown[]): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify(entries, null, 2));
    renameSync(`${file}.tmp`, file);
  };
  const logLines = (): Array<Record<string, unknown>> =>
    capture
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const stopsOf = (id: string): number => logLines().filter((l) => l.msg === 'stopping camera' && l.camera === id).length;
  const cameras = async (): Promise<CameraInfo[]> =>
    (await fetchJson<{ cameras: Array<CameraInfo & { live: boolean }> }>(`${stack.gateway.base}/api/cameras`)).body.cameras;
  const listed = async (id: string): Promise<(CameraInfo & { live?: boolean }) | undefined> => (await cameras()).find((c) => c.camera === id);

  before(async () => {
    camera = await startCamera({ jpegs: makeJpegs(30, '320x240'), fps: 25 });
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-cameras-runtime-'));
    file = path.join(dir, 'cameras.json');
  });
  before(async () => {
    writeCameras([
      { id: 'a', source: url('a') },
      { id: 'b', source: url('b') },
    ]);
    capture = startCapture(camerasFileEnv(stack.redis.url, file, { STALL_TIMEOUT_MS: '1000', RETRY_MAX_MS: '500' }));
    stack.captures.push(capture);
    await Promise.all([waitForFrames(stack.redis, 'a'), waitForFrames(stack.redis, 'b')]);
    await waitFor('the gateway to list a and b', async () => (await listed('a')) && (await listed('b')));
    for (const id of ['a', 'b']) viewers.set(id, openStream(`${stack.gateway.base}/stream/${id}`));
    await waitFor('both viewers streaming', () => [...viewers.values()].every((v) => v.parts.filter(isLive).length >= 5), 8000);
  });
  after(async () => {
    for (const v of viewers.values()) v.close();
    await camera?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('both cameras run in the one capture process, without a source process', () => {
    assert.deepEqual(childPids(capture.child.pid!), [], 'passed through in the capture process itself');
  });

  test('a camera added to the file has its first frame within a second; the others are not touched', async () => {
    const t0 = Date.now();
    writeCameras([
      { id: 'a', source: url('a') },
      { id: 'b', source: url('b') },
      { id: 'c', source: url('c'), fps: 20 },
    ]);
    await waitForFrames(stack.redis, 'c', 5000);
    const ms = Date.now() - t0;
    console.log(`# added camera: first frame in Redis ${ms} ms after the file was written`);
    assert.ok(ms < 1000, `first frame of the added camera after ${ms} ms`);
    assert.equal(stopsOf('a') + stopsOf('b'), 0, 'no other camera stopped');
  });

  test('a camera changed in the file is restarted with its new settings, and only it', async () => {
    await waitFor('the gateway to list c', () => listed('c'));
    assert.equal((await listed('c'))!.targetFps, 20);
    writeCameras([
      { id: 'a', source: url('a') },
      { id: 'b', source: url('b') },
      { id: 'c', source: url('c'), fps: 10 },
    ]);
    await waitFor('c announced at 10 fps', async () => (await listed('c'))?.targetFps === 10, 3000);
    assert.equal(stopsOf('c'), 1, 'c stopped once, for its restart');
    assert.equal(stopsOf('a') + stopsOf('b'), 0, 'no other camera stopped');
  });

  test('invalid entries are refused by name and field; a camera changed to an invalid entry keeps its last good settings', async () => {
    const before = logLines().length;
    writeCameras([
      { id: 'a', source: url('a') },
      { id: 'b', source: url('b'), width: 5 },
      { id: 'c', source: url('c'), fps: 10 },
      { id: 'd', source: url('d'), fps: 1000 },
      { id: 'e', source: 'nope://x' },
    ]);
    const refusals = (): Array<Record<string, unknown>> =>
      logLines()
        .slice(before)
        .filter((l) => String(l.msg).startsWith('CAMERAS_FILE entry refused'));
    await waitFor('three refusals logged', () => refusals().length >= 3, 3000);
    const byEntry = new Map(refusals().map((l) => [l.entry, l]));
    assert.equal(byEntry.get('camera b')?.field, 'width');
    assert.match(String(byEntry.get('camera b')?.msg), /camera b: width must be a whole number .*keeps its previous settings/);
    assert.equal(byEntry.get('camera d')?.field, 'fps');
    assert.match(String(byEntry.get('camera d')?.msg), /camera d: fps must be a whole number/);
    assert.equal(byEntry.get('camera e')?.field, 'source');
    assert.match(String(byEntry.get('camera e')?.msg), /camera e: source is invalid/);
    // Read again a second later (the file is polled too): each refusal is logged once.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(refusals().length, 3, 'each refusal logged once');
    assert.equal(stopsOf('a') + stopsOf('b') + stopsOf('c'), 1, "nothing stopped but c's earlier restart");
    const list = await cameras();
    assert.deepEqual(list.map((c) => c.camera).sort(), ['a', 'b', 'c'], 'd and e never started');
  });

  test('a camera removed from the file stops and goes offline; the others keep streaming', async () => {
    await waitFor('c live at the gateway', async () => (await listed('c'))?.live === true, 3000);
    writeCameras([
      { id: 'a', source: url('a') },
      { id: 'b', source: url('b') },
    ]);
    const t0 = Date.now();
    await waitFor('c offline at the gateway', async () => (await listed('c'))?.live === false, 4000);
    console.log(`# removed camera: offline at the gateway ${Date.now() - t0} ms after the file was written`);
    assert.equal(stopsOf('c'), 2, 'c stopped (its restart, then its removal)');
    const r = stack.redis.client();
    try {
      await waitFor('c out of the camera list in Redis', async () => (await cameraEntry(r, 'c')) === null, 2000);
      assert.notEqual(await cameraEntry(r, 'a'), null);
    } finally {
      r.disconnect();
    }
    assert.equal(stopsOf('a') + stopsOf('b'), 0, 'a and b never stopped');
  });

  test("the other cameras' viewers never waited more than 200 ms for a frame, and their cameras never restarted", () => {
    for (const [id, v] of viewers) {
      const live = v.parts.filter(isLive);
      assert.deepEqual(v.invalid, [], `${id}: well-formed parts`);
      const gaps = live.slice(1).map((p, i) => p.receivedAt - live[i]!.receivedAt);
      const worst = Math.max(...gaps);
      console.log(`# viewer of ${id}: ${live.length} frames, longest gap ${worst.toFixed(0)} ms`);
      assert.ok(worst <= MAX_GAP_MS, `${id}: a ${worst.toFixed(0)} ms gap between frames`);
      const seqs = live.map((p) => p.seq!);
      assert.ok(
        seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
        `${id}: sequence numbers only ever grow (a restarted camera starts again at 0)`,
      );
    }
  });

  // Last, once the gaps above are measured: loading OpenCV is a CPU burst the 200 ms bound is not about.
  test('an OpenCV camera has a source process of its own: killed, it is replaced and no other camera stops', async () => {
    writeCameras([
      { id: 'a', source: url('a') },
      { id: 'b', source: url('b') },
      { id: 'pattern', source: 'test', width: 160, height: 120, fps: 10 },
    ]);
    await waitForFrames(stack.redis, 'pattern', 10000);
    const [child] = await waitFor('its source process', () => {
      const pids = childPids(capture.child.pid!);
      return pids.length === 1 ? pids : null;
    });
    const counts = [...viewers.values()].map((v) => v.parts.length);
    process.kill(child!, 'SIGKILL');
    await waitFor('a new source process', () => childPids(capture.child.pid!).some((p) => p !== child), 5000);
    const c = stack.redis.client();
    try {
      const lastFrameAt = async (): Promise<number> => (await cameraEntry(c, 'pattern'))?.lastFrameAt ?? 0;
      const killedAt = Date.now();
      await waitFor('frames of the pattern again', async () => (await lastFrameAt()) > killedAt, 10000, 100);
    } finally {
      c.disconnect();
    }
    assert.ok(
      [...viewers.values()].every((v, i) => v.parts.slice(counts[i]).filter(isLive).length >= 5),
      'a and b kept streaming',
    );
    assert.equal(stopsOf('a') + stopsOf('b') + stopsOf('pattern'), 0, 'no camera was stopped: the source process was replaced');
  });
});
