/**
 * Admission that a flood cannot game: the per-address request rate (a token bucket, IPv6 by /64), the
 * capacity priced from time spent delivering (not the event loop's whole busy time) with the projection a
 * departed viewer leaves given back, a refused applicant holding nothing, and unknown camera ids answered
 * without asking the bus again for a while.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { MemoryBus } from '../../bus/memory-bus.js';
import { Access } from '../../gateway/access/access.js';
import { admit, Place } from '../../gateway/access/admit.js';
import { bucketKey, RequestRate } from '../../gateway/access/request-rate.js';
import { CameraList } from '../../gateway/delivery/camera-list.js';
import { REFUSALS } from '../../gateway/http/refusals.js';
import { Capacity } from '../../gateway/ops/capacity.js';
import { OPEN_ACCESS, testCameraInfo } from '../helpers/in-memory.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const spin = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

test('request rate: a full bucket gives its burst, then the rate; addresses are counted apart', () => {
  const rate = new RequestRate({ perSecond: 10, burst: 5 });
  const t0 = 1000;
  for (let i = 0; i < 5; i++) assert.equal(rate.take('198.51.100.1', t0), true, `burst request ${i + 1}`);
  assert.equal(rate.take('198.51.100.1', t0), false, 'the sixth at once is refused');
  assert.equal(rate.take('198.51.100.2', t0), true, 'another address has its own bucket');
  assert.equal(rate.take('198.51.100.1', t0 + 100), true, 'one token back after 100 ms at 10/s');
  assert.equal(rate.take('198.51.100.1', t0 + 100), false);
  assert.equal(rate.take('198.51.100.1', t0 + 10_000), true, 'refilled, never past the burst');
  for (let i = 0; i < 4; i++) assert.equal(rate.take('198.51.100.1', t0 + 10_000), true);
  assert.equal(rate.take('198.51.100.1', t0 + 10_000), false);
  assert.equal(new RequestRate({ perSecond: 0, burst: 1 }).take('198.51.100.1'), true, 'REQUEST_RATE_PER_IP=0: no limit');
});

test('request rate: an IPv6 host counts by its /64, so rotating addresses inside it does not help', () => {
  assert.equal(bucketKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(bucketKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
  assert.equal(bucketKey('2001:db8::9'), '2001:db8:0:0::/64');
  assert.equal(bucketKey('::1'), '0:0:0:0::/64');
  assert.equal(bucketKey('203.0.113.9'), '203.0.113.9');
  const rate = new RequestRate({ perSecond: 1, burst: 2 });
  assert.equal(rate.take('2001:db8:1:2::a', 0), true);
  assert.equal(rate.take('2001:db8:1:2::b', 0), true);
  assert.equal(rate.take('2001:db8:1:2::c', 0), false, 'a third address of the same /64 shares the bucket');
  assert.equal(rate.take('2001:db8:1:3::c', 0), true, 'the next /64 does not');
});

test('request rate: buckets that refilled are forgotten, so made-up addresses do not grow memory', () => {
  const rate = new RequestRate({ perSecond: 100, burst: 10 });
  for (let i = 0; i < 1000; i++) rate.take(`10.0.${i >> 8}.${i & 255}`, 0);
  assert.equal(rate.tracked, 1000);
  rate.take('10.9.9.9', 20_000);
  assert.equal(rate.tracked, 1, 'after the sweep only the address just seen');
});

function capacity(o: { busyMs: () => number; deliveries: () => number }): Capacity {
  return new Capacity({
    auto: true,
    maxLoad: 0.8,
    maxBackedUp: 0.5,
    deliveries: o.deliveries,
    deliveryBusyMs: o.busyMs,
    backlog: () => ({ connections: 0, backedUp: 0 }),
    sampleMs: 50,
  });
}

test('capacity: a loop kept busy by anything but delivery leaves the load at zero and viewers admitted', async () => {
  const c = capacity({ busyMs: () => 0, deliveries: () => 0 });
  try {
    for (let i = 0; i < 8; i++) {
      spin(40); // answering requests, say: busy, but not delivering
      await sleep(10);
    }
    assert.ok(c.loop > 0.5, `the event loop was busy: ${c.loop}`);
    assert.equal(c.load, 0, 'nothing was delivered: no delivery load');
    assert.notEqual(c.admit(30), null, 'a viewer is admitted');
    assert.equal(c.saturated, false);
  } finally {
    c.close();
  }
});

test('capacity: delivery time prices a viewer; a viewer that leaves gives its projection back', async () => {
  let busy = 0;
  let delivered = 0;
  const c = capacity({ busyMs: () => busy, deliveries: () => delivered });
  try {
    // 10 % of the time delivering, 1,000 deliveries a second: 0.1 ms each.
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await sleep(50);
      const elapsed = performance.now() - t;
      busy += elapsed * 0.1;
      delivered += elapsed;
    }
    assert.ok(c.load > 0.07 && c.load < 0.13, `load ${c.load}`);
    assert.ok(c.costPerDeliveryMs > 0.08 && c.costPerDeliveryMs < 0.12, `cost ${c.costPerDeliveryMs} ms`);
    // Room for (0.8 − 0.1) / 0.0001 ≈ 7,000 fps: 200 viewers at 30 fps would be 6,000.
    const places = [];
    for (let i = 0; i < 200; i++) places.push(c.admit(30));
    assert.ok(
      places.every((p) => p !== null),
      '200 viewers at 30 fps fit',
    );
    assert.equal(c.admit(3000), null, 'one more at 3,000 fps does not');
    for (const p of places) c.giveBack(p!);
    assert.notEqual(c.admit(1000), null, 'given back: churn projects nothing');
  } finally {
    c.close();
  }
});

const accessOptions = { ...OPEN_ACCESS, maxViewers: 2, maxViewersPerIp: 1 };

test('admit: a refused applicant holds no place; a released place frees its address and its load', () => {
  const access = new Access(accessOptions);
  const cap = capacity({ busyMs: () => 0, deliveries: () => 0 });
  try {
    const gate = { access, capacity: cap };
    const first = admit(gate, { rate: 30, remote: '198.51.100.1' });
    assert.ok(first instanceof Place);
    assert.equal(admit(gate, { rate: 30, remote: '198.51.100.1' }), REFUSALS.maxViewersPerIp);
    const second = admit(gate, { rate: 30, remote: '198.51.100.2' });
    assert.ok(second instanceof Place);
    assert.equal(admit(gate, { rate: 30, remote: '198.51.100.3' }), REFUSALS.maxViewers);
    first.release();
    first.release(); // twice is once
    assert.ok(admit(gate, { rate: 30, remote: '198.51.100.1' }) instanceof Place, 'the place came back');
    assert.equal(admit(gate, { rate: 30, remote: '198.51.100.4' }), REFUSALS.maxViewers, 'and only one');
  } finally {
    cap.close();
  }
});

test('camera list: a made-up camera asked for a thousand times costs one listing, a real one is found at once', async () => {
  const bus = new MemoryBus();
  let listings = 0;
  const cameras = bus.cameras.bind(bus);
  bus.cameras = () => {
    listings++;
    return cameras();
  };
  const list = new CameraList({ bus, log: pino({ level: 'silent' }), goneMs: 10_000 });
  await bus.announce(testCameraInfo('cam0'), 20_000);
  assert.equal(await list.has('cam0'), true);
  await sleep(60); // past the 50 ms in which a just-made listing answers without asking again
  const before = listings;
  for (let i = 0; i < 1000; i++) assert.equal(await list.has('nosuchcam'), false);
  assert.equal(listings - before, 1, 'one listing for a thousand asks within a second');
  await bus.announce(testCameraInfo('late'), 20_000);
  await sleep(300);
  await list.all(); // the ordinary refresh (every 250 ms) finds it despite the earlier miss
  assert.equal(await list.has('late'), true);
  await list.has('nosuchcam2');
  await bus.announce(testCameraInfo('nosuchcam2'), 20_000);
  await sleep(1100);
  assert.equal(await list.has('nosuchcam2'), true, 'an id remembered as unknown is asked about again after a second');
});
