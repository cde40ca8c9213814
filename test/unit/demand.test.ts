/** capture/demand.ts on the in-memory bus: idle when no gateway subscribes, awake at once when one asks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Demand } from '../../capture/demand.js';
import { captureLog, flush, sleep, TestBus } from '../helpers/in-memory.js';

const log = pino({ level: 'silent' });

test('no gateway subscribed: idle at the first poll; a gateway asking for frames wakes the capture at once', async () => {
  const bus = new TestBus();
  const changes: boolean[] = [];
  // A poll interval far longer than the test: only the wake-up can bring the capture back.
  const demand = new Demand({ bus, camera: 'cam', log, widths: [320], onChange: (state) => changes.push(state.watching), pollMs: 60_000 });
  assert.equal(demand.state.watching, true, 'full rate until told otherwise');
  await demand.start();
  assert.deepEqual(changes, [false]);
  assert.equal(demand.state.watching, false);
  await bus.requestFrames('other');
  assert.deepEqual(changes, [false], 'another camera is not this one');
  await bus.requestFrames('cam', 320);
  assert.deepEqual(changes, [false, true], 'woken by a rendition request too');
  await bus.requestFrames('cam');
  assert.deepEqual(changes, [false, true], 'only changes are reported');
  await demand.close();
  demand.state = { watching: false, renditions: [] };
  await bus.requestFrames('cam');
  assert.equal(demand.state.watching, false, 'after close the wake channel is no longer heard');
});

test('the poll follows the gateways: subscribed means watching, the last one leaving means idle', async () => {
  const bus = new TestBus();
  const { log: captured, messages } = captureLog();
  const changes: boolean[] = [];
  const unsubscribe = await bus.subscribe('cam', () => undefined);
  const demand = new Demand({ bus, camera: 'cam', log: captured, widths: [320], onChange: (state) => changes.push(state.watching), pollMs: 20 });
  try {
    await demand.start();
    assert.deepEqual(changes, [], 'a gateway is subscribed: stays at full rate');
    await unsubscribe();
    await sleep(100);
    assert.deepEqual(changes, [false]);
    assert.equal(messages(/no viewers: idle frame rate/).length, 1);
    assert.equal(messages(/no viewers/)[0]!.reason, 'no gateway subscribed');
    await bus.subscribe('cam', () => undefined);
    await sleep(100);
    assert.deepEqual(changes, [false, true]);
    assert.match(messages(/viewers present/)[0]!.reason as string, /1 gateway\(s\) subscribed/);
  } finally {
    await demand.close();
  }
});

test('while Redis cannot be asked, the rate stays as it is', async () => {
  const bus = new TestBus();
  const changes: boolean[] = [];
  bus.failing = true;
  const demand = new Demand({ bus, camera: 'cam', log, widths: [320], onChange: (state) => changes.push(state.watching), pollMs: 20 });
  try {
    await demand.start();
    await sleep(100);
    assert.deepEqual(changes, [], 'an outage does not idle a watched camera');
    assert.equal(demand.state.watching, true);
    bus.failing = false;
    await sleep(100);
    await flush();
    assert.deepEqual(changes, [false], 'back: the poll decides again');
  } finally {
    await demand.close();
  }
});
