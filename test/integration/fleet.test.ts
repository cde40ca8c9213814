/**
 * The bench's fleet harness (bench/fleet/): one gateway host with a shaped link and its own Redis
 * replica, behind nginx on another host, a viewer on a third. Checks that frames reach the viewer
 * through the balancer, that the link really is shaped, and that everything the harness made
 * (namespaces, with their veths, bridge and processes) is gone afterwards. Needs root (ip netns).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { startFleet } from '../../harness/fleet/fleet.js';
import { measureWindow, subscriptions } from '../../harness/fleet/measure.js';
import { ourNamespaces, PREFIX } from '../../harness/fleet/netns.js';

const root = process.getuid?.() === 0;

test('a one-host fleet serves a viewer through nginx and leaves nothing behind', {
  skip: root ? false : 'needs root (ip netns, veth, tc)',
  timeout: 60000,
}, async () => {
  const fleet = await startFleet({ gatewayHosts: 1, gatewaysPerHost: 1, linkMbit: 20, replicas: true, width: 320, height: 240, fps: 10, quality: 80 });
  const pids = fleet.gatewayProcs.flat().map((p) => p.child.pid!);
  try {
    assert.deepEqual(ourNamespaces().sort(), [`${PREFIX}client`, `${PREFIX}gw1`, `${PREFIX}nginx`, `${PREFIX}primary`, `${PREFIX}switch`]);
    assert.match(fleet.gateways[0]!.exec('tc', ['qdisc', 'show', 'dev', 'eth0']), /tbf .*rate 20Mbit/);
    const s = await measureWindow(fleet, 4, 0.5, 2);
    assert.ok(s.load.deliveredFrames > 4, `frames through the balancer: ${JSON.stringify(s.load)}`);
    assert.equal(s.load.invalidParts, 0);
    assert.equal(s.load.badFraming, 0);
    // What the gateway host's link sent is at least what the viewers received.
    assert.ok(s.hostTxBytesPerSecond[0]! >= s.goodputBytesPerSecond * 0.9, JSON.stringify(s));
    const [sub] = subscriptions(fleet, true);
    assert.equal(sub!.replicaLinks, 1, 'the host replica is linked to the primary');
    assert.ok(sub!.onPrimary + sub!.onReplica >= 1, `the gateway has subscribed somewhere: ${JSON.stringify(sub)}`);
  } finally {
    await fleet.stop();
  }
  assert.deepEqual(ourNamespaces(), []);
  assert.doesNotMatch(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, new RegExp(`^${PREFIX}`, 'm'));
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `gateway ${pid} is gone`);
});
