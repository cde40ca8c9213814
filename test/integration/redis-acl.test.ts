/**
 * Locking Redis down: deploy/redis-acl.conf's users on a real redis-server, a capture of any camera, a
 * capture of only `door` (the per-camera user) and a gateway running as those users (frames, camera list,
 * wake-ups, /readyz all work, no NOPERM in their logs), and what each user must not do, tried for real: a
 * gateway cannot publish a frame or write a key; a capture cannot read (not even with SET … GET), cannot
 * touch the old camera hash or other keys; the door user cannot write, publish or listen for another camera;
 * neither can administer the server; the default user is off. Garbage a capture user may write under the
 * camera entries is skipped by a fresh gateway, and a refused command costs no connection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { cameraInfo, frame } from '../helpers/bus-fixtures.js';
import { RedisBus } from '../../bus/redis-bus.js';
import { openStream } from '../../harness/mjpeg-client.js';
import { createLogger } from '../../lib/log.js';
import { freePort, requireTool, ROOT, run, startCapture, startGateway, waitFor, type GatewayHandle, type Proc } from '../../harness/procs.js';

const CAPTURE_PASSWORD = 'capture-acl-pass';
const DOOR_PASSWORD = 'door-acl-pass';
const GATEWAY_PASSWORD = 'gateway-acl-pass';
const CAPTURE = { CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '160', CAPTURE_HEIGHT: '120', CAPTURE_FPS: '10', IDLE_FPS: '1' };

type Cam = { camera: string; idle: boolean; live: boolean };
const listed = async (base: string): Promise<Cam[]> => ((await (await fetch(`${base}/api/cameras`)).json()) as { cameras: Cam[] }).cameras;

describe('Redis ACL users (deploy/redis-acl.conf)', () => {
  let dir = '';
  let server: Proc;
  let port = 0;
  const procs: Proc[] = [];
  let gateway: GatewayHandle;
  const clients: Redis[] = [];

  const as = (user: string, password: string): Redis => {
    const c = new Redis({ port, host: '127.0.0.1', username: user, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const url = (user: string, password: string): string => `redis://${user}:${password}@127.0.0.1:${port}`;
  const refused = async (what: string, p: Promise<unknown>, reply = /NOPERM/): Promise<void> => {
    await assert.rejects(p, reply, what);
  };

  before(async () => {
    requireTool('redis-server', 'sudo apt-get install -y redis-server');
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-acl-'));
    // The conf's lines as they are, with test passwords and the per-camera example switched on.
    const acl = readFileSync(path.join(ROOT, 'deploy', 'redis-acl.conf'), 'utf8')
      .replace('>CAPTURE_PASSWORD', `>${CAPTURE_PASSWORD}`)
      .replace('camfan-capture-door off >CAPTURE_DOOR_PASSWORD', `camfan-capture-door on >${DOOR_PASSWORD}`)
      .replace('>GATEWAY_PASSWORD', `>${GATEWAY_PASSWORD}`);
    assert.match(acl, /camfan-capture-door on/, 'the per-camera user is in the conf');
    port = await freePort();
    writeFileSync(path.join(dir, 'redis.conf'), `port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${dir}\n${acl}`);
    server = run('redis-server', [path.join(dir, 'redis.conf')]);
    await waitFor('redis-server with ACL users', async () => {
      const c = as('camfan-gateway', GATEWAY_PASSWORD);
      await c.connect();
      return (await c.ping()) === 'PONG';
    });
    procs.push(startCapture({ ...CAPTURE, REDIS_URL: url('camfan-capture', CAPTURE_PASSWORD) }));
    procs.push(startCapture({ ...CAPTURE, CAMERA_ID: 'door', REDIS_URL: url('camfan-capture-door', DOOR_PASSWORD) }));
    gateway = await startGateway({ REDIS_URL: url('camfan-gateway', GATEWAY_PASSWORD) });
    procs.push(gateway);
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('captures and gateway work as their users: camera list, wake-up from idle, stream, snapshot, /readyz', async () => {
    const cam = async (id: string): Promise<Cam | undefined> => (await listed(gateway.base)).find((c) => c.camera === id);
    await waitFor('cam0 and door listed, live and idle (nobody watches)', async () => (await cam('cam0'))?.idle && (await cam('door'))?.live, 15000, 200);
    const s = openStream(`${gateway.base}/stream/cam0`);
    await waitFor('the capture woke up (PUBLISH on the wake channel allowed)', async () => (await cam('cam0'))?.idle === false, 5000, 100);
    await waitFor('frames', () => s.count >= 5, 5000);
    s.close();
    assert.deepEqual(s.invalid, []);
    for (const id of ['cam0', 'door']) assert.equal((await fetch(`${gateway.base}/snapshot/${id}`)).status, 200, id);
    assert.equal((await fetch(`${gateway.base}/readyz`)).status, 200);
    for (const p of procs) assert.doesNotMatch(p.output(), /NOPERM|NOAUTH|WRONGPASS/);
  });

  test("a capture takes, renews and gives up its cameras' leases, registers and retires a camera as its user (CAMERAS_FILE)", async () => {
    const bus = new RedisBus({ target: { kind: 'standalone', url: url('camfan-capture', CAPTURE_PASSWORD) }, log: createLogger('capture', 'silent') });
    try {
      await waitFor('the bus connected', () => bus.isReady(), 5000);
      assert.equal(await bus.holdLease('porch', 'me', 2000), true, 'taken');
      assert.equal(await bus.holdLease('porch', 'me', 2000), true, 'renewed');
      assert.equal(await bus.holdLease('porch', 'other', 2000), false, 'held');
      await bus.releaseLease('porch', 'me');
      assert.equal(await bus.holdLease('porch', 'other', 2000), true, 'released');
      assert.deepEqual(await bus.registerCapture('me', 2000), ['me'], 'registered among the capture processes');
      await bus.unregisterCapture('me');
      await bus.announce(cameraInfo('porch', null), 2000);
      await bus.retireCamera('porch');
    } finally {
      await bus.close();
    }
  });

  test('what each user may not do is refused by Redis', async () => {
    const gw = as('camfan-gateway', GATEWAY_PASSWORD);
    const cap = as('camfan-capture', CAPTURE_PASSWORD);
    const door = as('camfan-capture-door', DOOR_PASSWORD);
    const doorListener = as('camfan-capture-door', DOOR_PASSWORD);
    const capListener = as('camfan-capture', CAPTURE_PASSWORD);
    await Promise.all([gw, cap, door, doorListener, capListener].map((c) => c.connect().catch(() => undefined)));
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['gateway publishes a frame', () => gw.publish('camfan:{cam0}:frames', 'fake')],
      ['gateway writes the latest frame', () => gw.set('camfan:{cam0}:latest', 'fake')],
      ["gateway writes a camera's entry", () => gw.set('camfan:{cam0}:camera', '{}')],
      ['gateway publishes elsewhere', () => gw.publish('other', 'x')],
      ["gateway deletes a camera's entry", () => gw.del('camfan:{cam0}:camera')],
      ['capture reads frames', () => cap.get('camfan:{cam0}:latest')],
      ['capture reads a frame with SET … GET', () => cap.call('SET', 'camfan:{door}:latest', 'x', 'GET')],
      ["capture reads a camera's entry with SET … GET", () => cap.call('SET', 'camfan:{door}:camera', '{}', 'GET')],
      ["capture reads a camera's entry", () => cap.get('camfan:{door}:camera')],
      ['capture lists the keys', () => cap.scan('0')],
      ['capture wipes the old camera hash', () => cap.set('camfan:cameras', 'wiped')],
      ['capture writes the old camera hash', () => cap.hset('camfan:cameras', 'evil', '1')],
      ["capture writes a camera's entry as a hash", () => cap.hset('camfan:{cam0}:camera', 'camera', 'x')],
      ['capture writes another key', () => cap.set('other:key', 'x')],
      ['capture publishes elsewhere', () => cap.publish('other', 'x')],
      ['capture publishes on a wake channel', () => cap.publish('camfan:{door}:wake', '1')],
      ['capture listens to frames', () => capListener.subscribe('camfan:{door}:frames')],
      ['capture reads frames through a script', () => cap.eval("return redis.call('get', KEYS[1])", 1, 'camfan:{cam0}:latest')],
      ["door writes another camera's frame", () => door.set('camfan:{cam0}:latest', 'x', 'PX', 1000)],
      ["door writes another camera's entry", () => door.set('camfan:{cam0}:camera', '{}', 'PX', 1000)],
      ["door writes another camera's entry as a hash", () => door.hset('camfan:{cam0}:camera', 'camera', 'x')],
      ["door publishes another camera's frame", () => door.publish('camfan:{cam0}:frames', 'x')],
      ["door publishes another camera's rendition", () => door.publish('camfan:{cam0}:frames:w320', 'x')],
      ["door listens for another camera's wake-ups", () => doorListener.subscribe('camfan:{cam0}:wake')],
      ['door reads its own frame with SET … GET', () => door.call('SET', 'camfan:{door}:latest', 'x', 'GET')],
      ['door deletes its entry', () => door.del('camfan:{door}:camera')],
      ['door takes a lease', () => door.set('camfan:{door}:lease', 'me')],
      ['door runs a script', () => door.eval('return 1', 0)],
      ['door writes the old camera hash', () => door.hset('camfan:cameras', 'door', '{}')],
    ];
    for (const c of [gw, cap, door]) {
      attempts.push(['FLUSHALL', () => c.flushall()], ['CONFIG', () => c.config('GET', 'dir')], ['KEYS', () => c.keys('*')]);
    }
    for (const [what, attempt] of attempts) await refused(what, attempt());
    console.log(`# ${attempts.length} commands beyond their users' roles refused with NOPERM`);
    assert.equal(typeof (await gw.publish('camfan:{cam0}:wake', '1')), 'number', 'gateways may wake a capture');
    assert.equal(await door.set('camfan:{door}:latest:w320', 'x', 'PX', 100), 'OK', 'door writes its own rendition');
    const anonymous = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    anonymous.on('error', () => undefined);
    clients.push(anonymous);
    await anonymous.connect().catch(() => undefined);
    await assert.rejects(anonymous.get('camfan:{cam0}:camera'), /NOAUTH|NOPERM|WRONGPASS|closed|authentication/i, 'the default user is off');
  });

  test('garbage a capture user may write under camera entries: a fresh gateway skips and counts it, lists the rest, stays ready', async () => {
    const cap = as('camfan-capture', CAPTURE_PASSWORD);
    await cap.connect();
    await cap.set('camfan:{evil}:camera', 'wiped', 'PX', 30000);
    await cap.set('camfan:{evil2}:camera', JSON.stringify({ ...cameraInfo('other', null), updatedAt: Date.now() }), 'PX', 30000);
    const fresh = await startGateway({ REDIS_URL: url('camfan-gateway', GATEWAY_PASSWORD) });
    procs.push(fresh);
    await waitFor('the fresh gateway lists cam0 and door', async () => (await listed(fresh.base)).map((c) => c.camera).join() === 'cam0,door', 5000, 100);
    assert.equal((await fetch(`${fresh.base}/readyz`)).status, 200);
    const stats = (await (await fetch(`${fresh.base}/api/stats`)).json()) as { bus: { invalidCameraEntries: number; reconnects: number } };
    console.log(`# fresh gateway: ${stats.bus.invalidCameraEntries} invalid entries skipped, ${stats.bus.reconnects} reconnects`);
    assert.ok(stats.bus.invalidCameraEntries >= 2, `invalidCameraEntries ${stats.bus.invalidCameraEntries}`);
    assert.equal(stats.bus.reconnects, 0);
    await cap.del('camfan:{evil}:camera', 'camfan:{evil2}:camera');
  });

  test('a refused command (NOPERM) costs the command only: the connection stays up, nothing reconnects', async () => {
    const info = as('camfan-gateway', GATEWAY_PASSWORD);
    await info.connect();
    const connectionsReceived = async (): Promise<number> => Number(/total_connections_received:(\d+)/.exec(await info.info('stats'))![1]);
    const log = createLogger('gateway', 'silent');
    const asGateway = new RedisBus({ target: { kind: 'standalone', url: url('camfan-gateway', GATEWAY_PASSWORD) }, log });
    const asCapture = new RedisBus({ target: { kind: 'standalone', url: url('camfan-capture', CAPTURE_PASSWORD) }, log });
    try {
      await waitFor('both buses connected', () => asGateway.isReady() && asCapture.isReady(), 5000);
      const before = await connectionsReceived();
      // The frame's MULTI gets NOPERM for each queued command, then EXECABORT for the whole.
      const tries: Array<[string, () => Promise<unknown>, RegExp?]> = [
        ['gateway announces a camera', () => asGateway.announce(cameraInfo('cam0', null), 1000)],
        ['gateway publishes a frame', () => asGateway.publish(frame('cam0', 1), 1000), /EXECABORT/],
        ['capture reads a latest frame', () => asCapture.latest('cam0')],
        ['capture lists the cameras', () => asCapture.cameras()],
      ];
      for (const [what, attempt, reply] of tries) {
        await refused(what, attempt(), reply);
        // ioredis drops the connection before it rejects the command when it means to reconnect.
        assert.equal(asGateway.isReady() && asCapture.isReady(), true, `still connected after: ${what}`);
      }
      assert.equal(await asGateway.checkReady(), true);
      assert.equal(await asCapture.checkReady(), true);
      const after = await connectionsReceived();
      console.log(
        `# ${tries.length} refused commands: ${after - before} new connections, reconnects ${asGateway.stats.reconnects + asCapture.stats.reconnects}`,
      );
      assert.equal(asGateway.stats.reconnects + asCapture.stats.reconnects, 0);
      assert.equal(after - before, 0, 'no new connection reached the server');
    } finally {
      await Promise.all([asGateway.close(), asCapture.close()]);
    }
    for (const p of procs) assert.doesNotMatch(p.output(), /redis connection lost/, 'no camfan process lost its connection');
  });
});
