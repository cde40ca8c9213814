/**
 * The camera-list part of the bus contract (test/integration/bus-contract.test.ts runs it on every bus):
 * entries announced, listed, checked one by one, retired, and expiring unless announced again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CameraLeases, FrameBus } from '../../bus/bus.js';
import { sleep } from '../../harness/procs.js';
import { cameraInfo } from './bus-fixtures.js';

export interface Harness {
  bus: FrameBus & CameraLeases;
  /** Puts raw bytes on a camera's channel, as a foreign or broken publisher would. */
  injectRaw(camera: string, message: Buffer): Promise<void>;
  /** Lets in-flight messages arrive. */
  settle(): Promise<void>;
  /** Writes a raw camera-list entry (a Map: a hash where the string belongs), as a foreign or broken writer would. */
  injectCameraEntry(camera: string, value: string | Map<string, string>): Promise<void>;
  /** Freezes the server (SIGSTOP for Redis); resolves with the function that thaws it. */
  freeze?: () => Promise<() => Promise<void>>;
}

/** Registers the camera-list tests in the calling describe(); harness() is the bus under test once set up. */
export function cameraListContract(harness: () => Harness): void {
  test('cameras are announced and listed', async () => {
    const h = harness();
    const info = cameraInfo('f', 1.5);
    await h.bus.announce(info, 5000);
    assert.deepEqual(
      (await h.bus.cameras()).find((c) => c.camera === 'f'),
      info,
    );
  });

  test('camera-list entries are checked one by one: bad ones are skipped and counted, the rest listed', async () => {
    const h = harness();
    const good = cameraInfo('h', null);
    await h.bus.announce(good, 5000);
    const before = h.bus.stats.invalidCameraEntries;
    const reconnects = h.bus.stats.reconnects;
    const bad: Array<[string, string | Map<string, string>]> = [
      ['evil', '1'],
      ['evil2', '{not json'],
      ['evil3', JSON.stringify({ ...good, camera: 'evil3', width: 'wide' })],
      ['evil4', JSON.stringify({ ...good, camera: 'evil4', source: undefined })],
      ['evil5', JSON.stringify({ ...good, camera: 'other' })],
      ['../x', JSON.stringify({ ...good, camera: '../x' })],
      ['evil6', 'null'],
      ['evil7', new Map([['camera', 'evil7']])],
    ];
    for (const [camera, value] of bad) await h.injectCameraEntry(camera, value);
    const list = await h.bus.cameras();
    // A WRONGTYPE reply is the entry's fault, not the connection's: still up, never re-established.
    assert.equal(h.bus.isReady(), true, 'the bus is still up after the bad entries');
    assert.deepEqual(
      list.find((c) => c.camera === 'h'),
      good,
    );
    assert.deepEqual(
      list.filter((c) => c.camera.startsWith('evil') || c.camera === '../x' || c.camera === 'other'),
      [],
    );
    assert.equal(h.bus.stats.invalidCameraEntries, before + bad.length);
    assert.equal(await h.bus.checkReady(), true);
    assert.equal(h.bus.stats.reconnects, reconnects, 'no reconnect');
    assert.deepEqual(
      list.map((c) => c.camera),
      [...list.map((c) => c.camera)].sort(),
    );
  });

  test('a retired camera leaves the camera list', async () => {
    const h = harness();
    const info = {
      camera: 'r',
      source: 'test pattern',
      width: 4,
      height: 3,
      targetFps: 30,
      fps: 0,
      lastFrameAt: 0,
      lastFrameBytes: 0,
      idle: false,
      encodeMsP50: null,
      updatedAt: 1,
    };
    await h.bus.announce(info, 5000);
    assert.ok((await h.bus.cameras()).some((c) => c.camera === 'r'));
    await h.bus.retireCamera('r');
    assert.ok(!(await h.bus.cameras()).some((c) => c.camera === 'r'));
  });

  test("a camera's entry expires unless announced again (a dead capture leaves no entry behind)", async () => {
    const h = harness();
    const listed = async (): Promise<boolean> => (await h.bus.cameras()).some((c) => c.camera === 't');
    await h.bus.announce(cameraInfo('t', null), 300);
    assert.equal(await listed(), true);
    await sleep(200);
    await h.bus.announce(cameraInfo('t', null), 300);
    await sleep(200);
    assert.equal(await listed(), true, 'renewed');
    await sleep(250);
    assert.equal(await listed(), false, 'not renewed in time: gone');
  });
}
