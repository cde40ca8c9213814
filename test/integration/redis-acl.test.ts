/**
 * Locking Redis down: deploy/redis-acl.conf's users on a real redis-server, a capture and a
 * gateway running as those users (frames, camera list, wake-ups, /readyz all work, no NOPERM in their
 * logs), and what each user must not do, tried for real: a gateway cannot publish a frame or write a key,
 * a capture cannot read or touch other keys, neither can administer the server, the default user is off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBus } from '../../bus/redis-bus.js';
import { openStream } from '../../harness/mjpeg-client.js';
import { createLogger } from '../../lib/log.js';
import { freePort, requireTool, ROOT, run, startCapture, startGateway, waitFor, type GatewayHandle, type Proc } from '../../harness/procs.js';

const CAPTURE_PASSWORD = 'capture-acl-pass';
const GATEWAY_PASSWORD = 'gateway-acl-pass';

describe('Redis ACL users (deploy/redis-acl.conf)', () => {
  let dir = '';
  let server: Proc;
  let port = 0;
  let capture: Proc;
  let gateway: GatewayHandle;
  const clients: Redis[] = [];

  const as = (user: string, password: string): Redis => {
    const c = new Redis({ port, host: '127.0.0.1', username: user, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const url = (user: string, password: string): string => `redis://${user}:${password}@127.0.0.1:${port}`;

  before(async () => {
    requireTool('redis-server', 'sudo apt-get install -y redis-server');
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-acl-'));
    const acl = readFileSync(path.join(ROOT, 'deploy', 'redis-acl.conf'), 'utf8')
      .replace('>CAPTURE_PASSWORD', `>${CAPTURE_PASSWORD}`)
      .replace('>GATEWAY_PASSWORD', `>${GATEWAY_PASSWORD}`);
    port = await freePort();
    writeFileSync(path.join(dir, 'redis.conf'), `port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${dir}\n${acl}`);
    server = run('redis-server', [path.join(dir, 'redis.conf')]);
    await waitFor('redis-server with ACL users', async () => {
      const c = as('camfan-gateway', GATEWAY_PASSWORD);
      await c.connect();
      return (await c.ping()) === 'PONG';
    });
    capture = startCapture({
      REDIS_URL: url('camfan-capture', CAPTURE_PASSWORD),
      CAPTURE_SOURCE: 'test',
      CAPTURE_WIDTH: '160',
      CAPTURE_HEIGHT: '120',
      CAPTURE_FPS: '10',
      IDLE_FPS: '1',
    });
    gateway = await startGateway({ REDIS_URL: url('camfan-gateway', GATEWAY_PASSWORD) });
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all([gateway?.stop(), capture?.stop()]);
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('capture and gateway work as their users: camera list, wake-up from idle, stream, snapshot, /readyz', async () => {
    type Cam = { camera: string; idle: boolean; live: boolean };
    const cam0 = async (): Promise<Cam | undefined> =>
      ((await (await fetch(`${gateway.base}/api/cameras`)).json()) as { cameras: Cam[] }).cameras.find((c) => c.camera === 'cam0');
    await waitFor(
      'cam0 listed, live and idle (nobody watches)',
      async () => {
        const c = await cam0();
        return c?.live && c.idle;
      },
      15000,
      200,
    );
    const s = openStream(`${gateway.base}/stream/cam0`);
    await waitFor('the capture woke up (PUBLISH on the wake channel allowed)', async () => (await cam0())?.idle === false, 5000, 100);
    await waitFor('frames', () => s.count >= 5, 5000);
    s.close();
    assert.deepEqual(s.invalid, []);
    assert.equal((await fetch(`${gateway.base}/snapshot/cam0`)).status, 200);
    assert.equal((await fetch(`${gateway.base}/readyz`)).status, 200);
    for (const p of [capture, gateway]) assert.doesNotMatch(p.output(), /NOPERM|NOAUTH|WRONGPASS/);
  });

  test("a capture takes, renews and gives up its cameras' leases and registers as its user (CAMERAS_FILE)", async () => {
    const bus = new RedisBus({ target: { kind: 'standalone', url: url('camfan-capture', CAPTURE_PASSWORD) }, log: createLogger('capture', 'silent') });
    try {
      await waitFor('the bus connected', () => bus.isReady(), 5000);
      assert.equal(await bus.holdLease('door', 'me', 2000), true, 'taken');
      assert.equal(await bus.holdLease('door', 'me', 2000), true, 'renewed');
      assert.equal(await bus.holdLease('door', 'other', 2000), false, 'held');
      await bus.releaseLease('door', 'me');
      assert.equal(await bus.holdLease('door', 'other', 2000), true, 'released');
      assert.deepEqual(await bus.registerCapture('me', 2000), ['me'], 'registered among the capture processes');
      await bus.unregisterCapture('me');
      await bus.retireCamera('door');
    } finally {
      await bus.close();
    }
  });

  test('what each user may not do is refused by Redis', async () => {
    const gw = as('camfan-gateway', GATEWAY_PASSWORD);
    const cap = as('camfan-capture', CAPTURE_PASSWORD);
    await Promise.all([gw.connect().catch(() => undefined), cap.connect().catch(() => undefined)]);
    const refused = async (what: string, p: Promise<unknown>): Promise<void> => {
      await assert.rejects(p, /NOPERM/, what);
    };
    await refused('gateway publishes a frame', gw.publish('camfan:{cam0}:frames', 'fake'));
    await refused('gateway writes the latest frame', gw.set('camfan:{cam0}:latest', 'fake'));
    await refused('gateway writes the camera list', gw.hset('camfan:cameras', 'evil', '1'));
    await refused('gateway publishes elsewhere', gw.publish('other', 'x'));
    await refused('gateway deletes', gw.del('camfan:cameras'));
    await refused('capture reads frames', cap.get('camfan:{cam0}:latest'));
    await refused('capture writes another key', cap.set('other:key', 'x'));
    await refused('capture publishes elsewhere', cap.publish('other', 'x'));
    await refused('capture deletes a frame', cap.del('camfan:{cam0}:latest'));
    await refused('capture reads frames through a script', cap.eval("return redis.call('get', KEYS[1])", 1, 'camfan:{cam0}:latest'));
    for (const c of [gw, cap]) {
      await refused('FLUSHALL', c.flushall());
      await refused('CONFIG', c.config('GET', 'dir'));
      await refused('KEYS', c.keys('*'));
    }
    assert.equal(typeof (await gw.publish('camfan:{cam0}:wake', '1')), 'number', 'gateways may wake a capture');
    const anonymous = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    anonymous.on('error', () => undefined);
    clients.push(anonymous);
    await anonymous.connect().catch(() => undefined);
    await assert.rejects(anonymous.get('camfan:cameras'), /NOAUTH|NOPERM|WRONGPASS|closed|authentication/i, 'the default user is off');
  });
});
