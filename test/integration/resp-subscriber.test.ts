/**
 * The frame subscriber (bus/resp-subscriber.ts), which speaks RESP itself, against real redis-servers: what it
 * receives, what it names itself, how it comes back after Redis drops it, what it does with a message over its
 * limit, a wrong password and a channel its ACL user may not read, and that nothing arrives after close().
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RespSubscriber, type RespSubscriberOptions } from '../../bus/resp-subscriber.js';
import { freePort, run, sleep, startRedis, waitFor, type Proc, type RedisHandle } from '../../harness/procs.js';

interface Probe {
  sub: RespSubscriber;
  messages: Array<[string, Buffer]>;
  oversized: Array<[string, number]>;
  errors: string[];
  events: string[];
}

function probe(url: string, o: Partial<RespSubscriberOptions> = {}): Probe {
  const p: Omit<Probe, 'sub'> = { messages: [], oversized: [], errors: [], events: [] };
  const sub = new RespSubscriber({
    url,
    name: 'camfan-subscriber-test',
    onMessage: (channel, message) => p.messages.push([channel, message]),
    onOversized: (channel, bytes) => p.oversized.push([channel, bytes]),
    retryDelay: () => 50,
    ...o,
  });
  sub.on('error', (err: Error) => p.errors.push(err.message));
  for (const e of ['ready', 'close']) sub.on(e, () => p.events.push(e));
  return { sub, ...p };
}

describe('RespSubscriber against redis-server', () => {
  let redis: RedisHandle;
  let publisher: Redis;
  const subs: RespSubscriber[] = [];
  const open = (url: string, o: Partial<RespSubscriberOptions> = {}): Probe => {
    const p = probe(url, o);
    subs.push(p.sub);
    return p;
  };

  before(async () => {
    redis = await startRedis();
    publisher = redis.client();
  });
  after(async () => {
    await Promise.all(subs.map((s) => s.close()));
    await redis.stop();
  });

  test('delivers each message byte for byte (5 MB ones too) on its channels only, and CLIENT LIST names it', async () => {
    const p = open(redis.url);
    await Promise.all([p.sub.subscribe('a'), p.sub.subscribe('b')]);
    assert.equal(p.sub.status, 'ready');
    const big = randomBytes(5 * 1024 * 1024);
    const small = Buffer.from('\r\n*3\r\n$7\r\nmessage\r\n');
    await publisher.publish('a', big);
    await publisher.publish('b', small);
    await publisher.publish('c', small);
    await waitFor('the message on b', async () => p.messages.length === 2);
    await p.sub.unsubscribe('b');
    await publisher.publish('b', Buffer.from('after unsubscribe'));
    await publisher.publish('a', Buffer.from('last'));
    await waitFor('the last message', async () => p.messages.at(-1)?.[1].toString() === 'last');
    assert.deepEqual(
      p.messages.map(([c, m]) => [c, m.length]),
      [
        ['a', big.length],
        ['b', small.length],
        ['a', 4],
      ],
    );
    assert.ok(p.messages[0]![1].equals(big), 'the 5 MB message arrived byte for byte');
    assert.ok(p.messages[1]![1].equals(small));
    assert.match((await publisher.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string, /name=camfan-subscriber-test /);
    assert.deepEqual(p.errors, []);
  });

  test('dropped by Redis, it comes back, listens to its channels again, and confirms a subscribe made meanwhile once back', async () => {
    const p = open(redis.url, { retryDelay: () => 500 });
    await p.sub.subscribe('x');
    await publisher.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor('the subscriber to see the connection close', async () => p.events.includes('close'));
    assert.equal(p.sub.status, 'reconnecting');
    let confirmedWhile = '';
    const later = p.sub.subscribe('y').then(() => {
      confirmedWhile = p.sub.status;
    });
    await sleep(200);
    assert.equal(confirmedWhile, '', 'not confirmed while disconnected');
    await later;
    assert.equal(confirmedWhile, 'ready');
    assert.deepEqual(p.events, ['ready', 'close', 'ready']);
    await publisher.publish('x', 'on x');
    await publisher.publish('y', 'on y');
    await waitFor('messages on both channels', async () => p.messages.length === 2);
    assert.deepEqual(
      p.messages.map(([c, m]) => `${c}:${m.toString()}`),
      ['x:on x', 'y:on y'],
    );
  });

  test('a message over the limit is skipped and reported with its size; the next one is delivered', async () => {
    const p = open(redis.url, { maxMessageBytes: 1000 });
    await p.sub.subscribe('m');
    await publisher.publish('m', Buffer.alloc(1001, 1));
    await publisher.publish('m', Buffer.alloc(1000, 2));
    await waitFor('the message after the oversized one', async () => p.messages.length === 1);
    assert.deepEqual(p.oversized, [['m', 1001]]);
    assert.ok(p.messages[0]![1].equals(Buffer.alloc(1000, 2)));
    assert.equal(p.sub.status, 'ready', 'skipping does not cost the connection');
  });

  test('after close() nothing arrives and it does not reconnect', async () => {
    const p = open(redis.url, { name: 'closing-subscriber' });
    await p.sub.subscribe('z');
    await p.sub.close();
    assert.equal(p.sub.status, 'end');
    await publisher.publish('z', 'too late');
    await sleep(300);
    assert.deepEqual(p.messages, []);
    assert.deepEqual(p.events, ['ready', 'close']);
    assert.doesNotMatch((await publisher.call('CLIENT', 'LIST')) as string, /name=closing-subscriber/);
  });

  describe('with an ACL user', () => {
    let server: Proc;
    let port = 0;
    before(async () => {
      port = await freePort();
      const acl = ['viewer', 'on', '>right-pw', 'resetchannels', '&allowed:*', '-@all', '+subscribe', '+unsubscribe', '+client|setname'];
      server = run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--user', ...acl]);
      await waitFor('redis-server with an ACL user', async () => {
        const c = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        c.on('error', () => undefined);
        try {
          await c.connect();
          return (await c.ping()) === 'PONG';
        } finally {
          c.disconnect();
        }
      });
    });
    after(() => server.stop());

    test('a wrong password: each attempt fails with Redis’s reason, never ready, and the password is not in the error', async () => {
      const p = open(`redis://viewer:wrong-pw@127.0.0.1:${port}`);
      let confirmed = false;
      void p.sub.subscribe('allowed:1').then(() => (confirmed = true));
      await waitFor('three refused attempts', async () => p.errors.length >= 3);
      assert.match(p.errors[0]!, /WRONGPASS/);
      assert.ok(p.errors.every((e) => !e.includes('wrong-pw')));
      assert.equal(p.sub.status, 'reconnecting');
      assert.equal(confirmed, false);
      assert.ok(!p.events.includes('ready'));
    });

    test('the right password delivers; a channel the user may not read is refused with NOPERM', async () => {
      const p = open(`redis://viewer:right-pw@127.0.0.1:${port}`);
      await p.sub.subscribe('allowed:1');
      await assert.rejects(p.sub.subscribe('secret'), /NOPERM/);
      const admin = new Redis({ port, username: 'default' });
      await admin.publish('allowed:1', 'hello');
      await admin.publish('secret', 'hidden');
      await waitFor('the allowed message', async () => p.messages.length === 1);
      await sleep(100);
      admin.disconnect();
      assert.deepEqual(
        p.messages.map(([c, m]) => `${c}:${m.toString()}`),
        ['allowed:1:hello'],
      );
      assert.equal(p.sub.status, 'ready', 'a refused channel does not cost the connection');
    });
  });
});
