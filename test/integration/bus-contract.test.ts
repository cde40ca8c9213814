/** One contract, two buses: the in-process MemoryBus and RedisBus against a real redis-server and a real Redis Cluster. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { channels } from '../../bus/channels.js';
import type { Frame } from '../../bus/frame.js';
import { frame } from '../helpers/bus-fixtures.js';
import { cameraListContract, type Harness } from '../helpers/bus-contract-cameras.js';
import { MemoryBus } from '../../bus/memory-bus.js';
import { RedisBus } from '../../bus/redis-bus.js';
import { Cluster } from 'ioredis';
import { sleep, startRedis, waitFor, type RedisHandle } from '../../harness/procs.js';
import { startRedisCluster, type ClusterHandle } from '../../harness/redis-cluster.js';

const log = pino({ level: 'silent' });

function contract(name: string, make: () => Promise<Harness>): void {
  describe(`FrameBus contract: ${name}`, () => {
    let h: Harness;
    before(async () => {
      h = await make();
    });
    after(async () => {
      await h.bus.close();
    });

    cameraListContract(() => h);

    test('a subscriber receives each published frame of its camera, and only those', async () => {
      const got: Frame[] = [];
      const unsubscribe = await h.bus.subscribe('a', (f) => got.push(f));
      await h.bus.publish(frame('a', 1), 5000);
      await h.bus.publish(frame('b', 2), 5000);
      await h.bus.publish(frame('a', 3), 5000);
      await waitFor('two frames', () => got.length >= 2, 3000, 5);
      await h.settle();
      assert.deepEqual(
        got.map((f) => [f.camera, f.seq]),
        [
          ['a', 1],
          ['a', 3],
        ],
      );
      await unsubscribe();
    });

    test('after unsubscribe nothing more arrives', async () => {
      const got: Frame[] = [];
      const unsubscribe = await h.bus.subscribe('c', (f) => got.push(f));
      await unsubscribe();
      await h.bus.publish(frame('c', 1), 5000);
      await h.settle();
      assert.equal(got.length, 0);
    });

    test('latest returns the newest frame until its TTL passes', async () => {
      await h.bus.publish(frame('d', 1), 5000);
      await h.bus.publish(frame('d', 2), 300);
      assert.equal((await h.bus.latest('d'))?.seq, 2);
      await sleep(450);
      assert.equal(await h.bus.latest('d'), null);
      assert.equal(await h.bus.latest('never-published'), null);
    });

    test('a publish without a TTL is delivered and leaves the stored latest frame as it was', async () => {
      const got: Frame[] = [];
      const unsubscribe = await h.bus.subscribe('f', (f) => got.push(f));
      await h.bus.publish(frame('f', 1), 5000);
      await h.bus.publish(frame('f', 2), null);
      await h.settle();
      assert.deepEqual(
        got.map((f) => f.seq),
        [1, 2],
      );
      assert.equal((await h.bus.latest('f'))?.seq, 1);
      await unsubscribe();
    });

    test('a malformed message is dropped and counted, and delivery goes on', async () => {
      const got: Frame[] = [];
      const unsubscribe = await h.bus.subscribe('e', (f) => got.push(f));
      const before = h.bus.stats.malformed;
      await h.injectRaw('e', Buffer.from('not a frame'));
      await h.bus.publish(frame('e', 9), 5000);
      await waitFor('the good frame', () => got.length === 1, 3000, 5);
      assert.equal(h.bus.stats.malformed, before + 1);
      assert.equal(got[0]!.seq, 9);
      await unsubscribe();
    });

    test('checkReady: true while the server answers, false within the command timeout when it is frozen', async (t) => {
      assert.equal(await h.bus.checkReady(), true);
      if (!h.freeze) return t.skip('this harness cannot freeze its server');
      const thaw = await h.freeze();
      try {
        const started = Date.now();
        assert.equal(await h.bus.checkReady(), false);
        assert.ok(Date.now() - started < 1500, `answered after ${Date.now() - started} ms`);
      } finally {
        await thaw();
      }
      assert.equal(await waitFor('ready again', () => h.bus.checkReady(), 5000), true);
    });

    test('watchers counts subscribed gateways, and a frames request reaches the capture', async () => {
      assert.equal(await h.bus.watchers('g'), 0);
      const unsubscribe = await h.bus.subscribe('g', () => undefined);
      assert.equal(await h.bus.watchers('g'), 1);
      let requests = 0;
      const stop = await h.bus.onFramesRequested('g', () => requests++);
      await h.bus.requestFrames('g');
      await waitFor('the request', () => requests === 1, 3000, 5);
      await stop();
      await unsubscribe();
      assert.equal(await h.bus.watchers('g'), 0);
    });

    test('a camera lease has one holder: renewed by it, refused to others, free once released or run out', async () => {
      assert.equal(await h.bus.holdLease('l', 'p1', 300), true, 'free: taken');
      assert.equal(await h.bus.holdLease('l', 'p2', 300), false, 'held by p1');
      assert.equal(await h.bus.holdLease('l', 'p1', 300), true, 'renewed by its holder');
      await h.bus.releaseLease('l', 'p2');
      assert.equal(await h.bus.holdLease('l', 'p2', 300), false, 'only the holder can release it');
      await h.bus.releaseLease('l', 'p1');
      assert.equal(await h.bus.holdLease('l', 'p2', 300), true, 'released: taken by another');
      await sleep(400);
      assert.equal(await h.bus.holdLease('l', 'p1', 300), true, 'not renewed in time: free again');
    });

    test('capture processes register for a while, are listed sorted until then, and leave', async () => {
      assert.deepEqual(await h.bus.registerCapture('q2', 300), ['q2']);
      assert.deepEqual(await h.bus.registerCapture('q1', 1500), ['q1', 'q2']);
      await sleep(400);
      assert.deepEqual(await h.bus.registerCapture('q1', 1500), ['q1'], 'q2 did not renew: gone');
      await h.bus.unregisterCapture('q1');
      assert.deepEqual(await h.bus.registerCapture('q3', 300), ['q3']);
      await h.bus.unregisterCapture('q3');
    });

    test('close is idempotent and the bus is no longer ready', async () => {
      const extra = await make();
      assert.equal(await waitFor('ready', () => extra.bus.isReady(), 3000), true);
      await Promise.all([extra.bus.close(), extra.bus.close()]);
      await extra.bus.close();
      assert.equal(extra.bus.isReady(), false);
    });
  });
}

contract('MemoryBus', async () => {
  const bus = new MemoryBus();
  return {
    bus,
    injectRaw: async (camera, msg) => bus.deliverRaw(camera, msg),
    settle: async () => undefined,
    injectCameraEntry: async (camera, value) => bus.announceRaw(camera, value),
    freeze: async () => {
      bus.frozen = true;
      return async () => {
        bus.frozen = false;
      };
    },
  };
});

let redis: RedisHandle | null = null;
after(async () => {
  await redis?.stop();
});

contract('RedisBus (real redis-server)', async () => {
  redis ??= await startRedis();
  const bus = new RedisBus({ target: { kind: 'standalone', url: redis.url, commandTimeoutMs: 500 }, log });
  await waitFor('redis bus ready', () => bus.isReady(), 5000);
  const raw = redis.client();
  const server = redis;
  return {
    bus,
    injectRaw: async (camera, msg) => {
      await raw.publish(channels.frames(camera), msg);
    },
    settle: () => sleep(100),
    injectCameraEntry: async (camera, value) => {
      await (typeof value === 'string' ? raw.set(channels.camera(camera), value) : raw.hset(channels.camera(camera), Object.fromEntries(value)));
    },
    freeze: async () => {
      server.child.kill('SIGSTOP');
      return async () => {
        server.child.kill('SIGCONT');
      };
    },
  };
});

let cluster: ClusterHandle | null = null;
const clusterClients: Cluster[] = [];
after(async () => {
  for (const c of clusterClients) c.disconnect();
  await cluster?.stop();
});

contract('RedisBus (3-master Redis Cluster, sharded pub/sub)', async () => {
  cluster ??= await startRedisCluster(3);
  const bus = new RedisBus({ target: { kind: 'cluster', nodes: cluster.nodes }, log });
  await waitFor('cluster bus ready', () => bus.isReady(), 10000);
  const raw = new Cluster(cluster.nodes);
  clusterClients.push(raw);
  return {
    bus,
    injectRaw: async (camera, msg) => {
      await raw.spublish(channels.frames(camera), msg);
    },
    settle: () => sleep(150),
    injectCameraEntry: async (camera, value) => {
      await (typeof value === 'string' ? raw.set(channels.camera(camera), value) : raw.hset(channels.camera(camera), Object.fromEntries(value)));
    },
  };
});
