/**
 * Gateways reading frames through a Redis replica (REDIS_SUBSCRIBE_URL), real redis-server processes:
 * the primary sends each frame once, to its replica, however many gateway processes watch; the capture
 * still knows it is watched; a killed replica sends the gateways to the primary within 2 s, and they go
 * back to the replica once it is healthy again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { Redis as IORedis, type Redis } from 'ioredis';
import { openStream, type StreamClient } from '../../harness/mjpeg-client.js';
import {
  freePort,
  ROOT,
  run,
  sleep,
  startCapture,
  startGateway,
  startRedis,
  waitFor,
  waitForFrames,
  type GatewayHandle,
  type Proc,
  type RedisHandle,
} from '../../harness/procs.js';

const FPS = 15;
const FRAMES = 'camfan:{cam0}:frames';

interface Readyz {
  status: string;
  subscribe?: { index: number; url: string; role: string; masterLink: string | null; failovers: number };
}

const readyz = async (g: GatewayHandle): Promise<{ status: number; body: Readyz }> => {
  const r = await fetch(`${g.base}/readyz`);
  return { status: r.status, body: (await r.json()) as Readyz };
};

const netOut = async (c: Redis): Promise<number> => Number(/total_net_output_bytes:(\d+)/.exec(await c.info('stats'))![1]);

const replicaArgs = (primary: RedisHandle): string[] => [
  '--replicaof',
  '127.0.0.1',
  String(primary.port),
  '--client-output-buffer-limit',
  'pubsub 256mb 64mb 60',
];

async function linkUp(replica: RedisHandle): Promise<void> {
  const c = replica.client();
  try {
    await waitFor('replica in sync with its primary', async () => /master_link_status:up/.test(await c.info('replication')), 10000);
  } finally {
    c.disconnect();
  }
}

const noSignal = (p: { jpeg: Buffer }): boolean => p.jpeg.toString('latin1', 6, 120).includes(' nosignal');

const gets = async (c: Redis): Promise<number> => Number(/cmdstat_get:calls=(\d+)/.exec(await c.info('commandstats'))?.[1] ?? 0);

describe('subscribe tree (REDIS_SUBSCRIBE_URL through a replica)', () => {
  let primary: RedisHandle;
  let replica: RedisHandle;
  let restarted: RedisHandle | Proc | null = null;
  let capture: Proc;
  const gateways: GatewayHandle[] = [];
  const viewers: StreamClient[] = [];
  let primaryGetsBefore = 0;

  before(async () => {
    primary = await startRedis();
    replica = await startRedis(replicaArgs(primary));
    await linkUp(replica);
    // IDLE_FPS 1: a capture that did not count the gateways as watching would send 1 frame a second.
    capture = startCapture({
      REDIS_URL: primary.url,
      CAMERA_ID: 'cam0',
      CAPTURE_SOURCE: 'test',
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      CAPTURE_FPS: String(FPS),
      IDLE_FPS: '1',
    });
    await waitForFrames(primary, 'cam0');
    // The test's own GET of the camera's entry, before any gateway runs.
    primaryGetsBefore = await gets(primary.client());
    for (let i = 0; i < 4; i++) gateways.push(await startGateway({ REDIS_URL: primary.url, REDIS_SUBSCRIBE_URL: replica.url, UNSUBSCRIBE_LINGER_MS: '100' }));
  });

  after(async () => {
    for (const v of viewers) v.close();
    await Promise.all([...gateways.map((g) => g.stop()), capture?.stop()]);
    await Promise.all([replica?.stop(), restarted?.stop(), primary?.stop()]);
  });

  test("4 gateways: the primary sends to its replica only, and viewers get the camera's rate", async () => {
    for (const g of gateways) viewers.push(openStream(`${g.base}/video_feed`, { keepParts: true }));
    await waitFor('frames on every viewer', () => viewers.every((v) => v.count >= 3), 10000);
    await sleep(1500); // past the capture's next count of its watchers (once a second)

    const p = primary.client();
    const counts0 = viewers.map((v) => v.count);
    const bytes0 = viewers[0]!.parts.reduce((n, x) => n + x.jpeg.length, 0);
    const out0 = await netOut(p);
    await sleep(3000);
    const out = (await netOut(p)) - out0;
    const viewed = viewers[0]!.parts.reduce((n, x) => n + x.jpeg.length, 0) - bytes0;
    const rates = viewers.map((v, i) => (v.count - counts0[i]!) / 3);
    console.log(`# frames/s per viewer ${rates.map((r) => r.toFixed(1)).join(', ')}; primary sent ${out} bytes in 3 s, one viewer received ${viewed}`);
    for (const r of rates) assert.ok(r >= FPS * 0.7, `a viewer got ${r.toFixed(1)} frames/s, the camera sends ${FPS}`);
    // The replica gets each frame once (its PUBLISH), plus the latest-frame key once a second
    // (LATEST_EVERY_MS); four direct gateways would be four copies.
    assert.ok(out < 1.4 * viewed, `the primary sent ${out} bytes while a viewer received ${viewed}`);

    const clients = (await p.client('LIST')) as string;
    const lines = clients.split('\n').filter(Boolean);
    assert.ok(
      lines.some((l) => /flags=\w*S/.test(l)),
      `the replica's link is a client of the primary:\n${clients}`,
    );
    // Subscribers left on the primary: the capture's, for wake-ups, and one per gateway on its quiet channel.
    assert.equal(lines.filter((l) => / name=camfan-subscriber .* sub=1 /.test(l)).length, 1, clients);
    assert.equal(lines.filter((l) => / name=camfan-presence .* sub=1 /.test(l)).length, 4, clients);
    assert.ok(!lines.some((l) => / ssub=[1-9]/.test(l)), clients);
    const open = ((await p.call('PUBSUB', 'CHANNELS', 'camfan:*')) as string[]).sort();
    assert.deepEqual(open, ['camfan:{cam0}:wake', 'camfan:{cam0}:watching'], 'no gateway reads frames from the primary');
    const [, onPrimary] = (await p.call('PUBSUB', 'NUMSUB', FRAMES)) as [string, number];
    assert.equal(onPrimary, 0, 'nobody is subscribed to the frames on the primary');
    // What the capture counts instead: each gateway's quiet "watching" channel, on which nothing is published.
    const [, watching] = (await p.call('PUBSUB', 'NUMSUB', 'camfan:{cam0}:watching')) as [string, number];
    assert.equal(watching, 4);
    const r = replica.client();
    const [, onReplica] = (await r.call('PUBSUB', 'NUMSUB', FRAMES)) as [string, number];
    assert.equal(onReplica, 4, 'the four gateways read the frames from the replica');

    const { status, body } = await readyz(gateways[0]!);
    assert.equal(status, 200);
    assert.equal(body.subscribe?.index, 0);
    assert.equal(body.subscribe?.role, 'replica');
    assert.equal(body.subscribe?.masterLink, 'up');
    // Each new viewer's first picture is the latest-frame key: read on the replica, never on the primary.
    assert.ok((await gets(r)) >= 4, 'the gateways read latest frames on the replica');
    assert.equal(await gets(p), primaryGetsBefore, 'and not on the primary');
  });

  test('a replica stalled for 2 s replays its backlog: viewers get no frame older than LATE_FRAME_MS, then live ones', async () => {
    const v = viewers[1]!;
    const late = async (): Promise<number> =>
      Number(/^camfan_frames_late_total (\d+)/m.exec(await (await fetch(`${gateways[1]!.base}/metrics`)).text())?.[1] ?? 0);
    const lateBefore = await late();
    const from = v.parts.length;
    process.kill(replica.child.pid!, 'SIGSTOP');
    await sleep(2000);
    process.kill(replica.child.pid!, 'SIGCONT');
    const resumed = Date.now();
    await waitFor('live frames again', () => v.parts.slice(from).some((p) => p.receivedAt > resumed && p.receivedAt - (p.timestamp ?? 0) < 300), 3000, 10);
    await sleep(500);
    const ages = v.parts.slice(from).map((p) => p.receivedAt - (p.timestamp ?? 0));
    const dropped = (await late()) - lateBefore;
    console.log(
      `# replica stalled 2 s: ${dropped} replayed frames dropped as late by one gateway; oldest frame a viewer got ${Math.round(Math.max(...ages))} ms`,
    );
    assert.ok(dropped > 0, 'the replayed backlog reached the gateway and was dropped');
    // LATE_FRAME_MS 500: the replayed frames younger than that may still be shown, nothing older.
    assert.ok(Math.max(...ages) < 500 + 300, `a viewer got a frame ${Math.round(Math.max(...ages))} ms old`);
  });

  test('replica killed: frames come from the primary within 2 s; back to the replica once it returns', async () => {
    const v = viewers[0]!;
    await waitFor('frames', () => v.count >= 3, 5000);
    replica.child.kill('SIGKILL');
    await replica.exited;
    const killed = Date.now();
    const before = v.parts.length;
    await waitFor('a real frame after the kill', () => v.parts.slice(before).some((p) => !noSignal(p) && p.receivedAt > killed + 100), 5000, 10);
    const ms = Date.now() - killed;
    console.log(`# frames resumed ${ms} ms after the replica was killed`);
    assert.ok(ms < 2000, `frames resumed after ${ms} ms`);
    await waitFor('/readyz names the primary', async () => (await readyz(gateways[0]!)).body.subscribe?.role === 'master', 2000);
    const { status, body } = await readyz(gateways[0]!);
    assert.equal(status, 200, 'ready while frames flow from the fallback');
    assert.equal(body.subscribe?.index, 1);
    assert.equal(body.subscribe?.failovers, 1);
    assert.match(gateways[0]!.output(), /subscribe endpoint changed/);
    const metrics = await (await fetch(`${gateways[0]!.base}/metrics`)).text();
    assert.match(metrics, /camfan_subscribe_failovers_total 1/);
    assert.match(metrics, /camfan_subscribe_endpoint\{url="redis:\/\/127\.0\.0\.1:\d+",role="master",master_link=""\} 1/);

    // The replica back on its port: the gateways probe it about every 10 s and return to it.
    const args = ['--port', String(replica.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...replicaArgs(primary)];
    restarted = run('redis-server', args);
    await waitFor(
      'all gateways back on the replica',
      async () => (await Promise.all(gateways.map(readyz))).every((r) => r.body.subscribe?.index === 0),
      20000,
      200,
    );
    const count = v.count;
    await waitFor('frames through the replica again', () => v.count >= count + FPS, 5000);
  });

  test('a replica whose master link is down: /readyz says so, and frames move to the primary', async () => {
    const c = new IORedis(replica.port, '127.0.0.1');
    try {
      const v = viewers[1]!;
      // Replicating from a port where nothing listens: the replica is up, its link is down, no frame arrives.
      await c.call('REPLICAOF', '127.0.0.1', String(await freePort()));
      const cut = Date.now();
      await waitFor('/readyz reports the down link', async () => (await readyz(gateways[1]!)).body.subscribe?.masterLink === 'down', 2000, 50);
      const before = v.parts.length;
      await waitFor('frames from the primary', () => v.parts.slice(before).some((p) => !noSignal(p)), 6000, 20);
      const ms = Date.now() - cut;
      console.log(`# frames from the primary ${ms} ms after the replica lost its master`);
      assert.ok(ms < 4000, `after ${ms} ms`);
      const { status, body } = await readyz(gateways[1]!);
      assert.equal(status, 200);
      assert.equal(body.subscribe?.index, 1);
      await c.call('REPLICAOF', '127.0.0.1', String(primary.port));
    } finally {
      c.disconnect();
    }
  });

  test("ecosystem.config.js with REDIS_REPLICA_OF: a replica app redis-server accepts, and the gateways' endpoints", async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_REPLICA_OF: `127.0.0.1:${primary.port}`, REDIS_REPLICA_PORT: String(port), CAMERAS: 'cam0=test' };
    delete env.REDIS_URL;
    delete env.REDIS_SUBSCRIBE_URL;
    delete env.REDIS_CLUSTER_NODES;
    const printed = execFileSync(process.execPath, ['-e', 'console.log(JSON.stringify(require("./ecosystem.config.js").apps))'], { cwd: ROOT, env });
    const apps = JSON.parse(printed.toString()) as Array<{ name: string; script: string; args?: string[]; env?: Record<string, string> }>;
    assert.deepEqual(apps.map((a) => a.name).sort(), ['camfan-capture-cam0', 'camfan-gateway', 'camfan-redis-replica'], 'no local primary');
    const gateway = apps.find((a) => a.name === 'camfan-gateway')!;
    assert.equal(gateway.env?.REDIS_URL, `redis://127.0.0.1:${primary.port}`);
    assert.equal(gateway.env?.REDIS_SUBSCRIBE_URL, `redis://127.0.0.1:${port}`);
    const app = apps.find((a) => a.name === 'camfan-redis-replica')!;
    const proc = run(app.script, app.args!);
    try {
      const c = new IORedis(port, '127.0.0.1', { retryStrategy: () => 50 });
      c.on('error', () => undefined); // refused until it is up
      try {
        await waitFor('the replica app in sync', async () => /master_link_status:up/.test(await c.info('replication')), 10000);
        const [, limits] = (await c.config('GET', 'client-output-buffer-limit')) as [string, string];
        assert.match(limits, /slave 268435456 67108864 60/); // Redis 7.0 still says slave
        assert.deepEqual(await c.config('GET', 'repl-backlog-size'), ['repl-backlog-size', String(8 * 1024 * 1024)]);
        assert.match(limits, /pubsub 268435456 67108864 60/);
      } finally {
        c.disconnect();
      }
    } finally {
      await proc.stop();
    }
  });
});
