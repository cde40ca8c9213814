/**
 * The deployment as a user runs it: pm2 starts ecosystem.config.js in a temporary PM2_HOME with its own
 * Redis, two cameras and two gateway instances sharing one port. Then: every app online, both gateways
 * serving, kill -9 of one gateway (pm2 restarts it, viewers on the other never stall), and pm2 reload
 * under load with no refused connection.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStream } from '../../harness/mjpeg-client.js';
import { freePort, ROOT, sleep, waitFor } from '../../harness/procs.js';

const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2');

interface AppInfo {
  name: string;
  pid: number;
  pm2_env: { status: string; restart_time: number; pm_id: number };
}

describe('pm2 deployment (ecosystem.config.js)', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'camfan-pm2-'));
  let port = 0;
  let env: NodeJS.ProcessEnv;

  const pm2 = (...args: string[]): string => {
    const r = spawnSync(PM2, args, { env, cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')} failed: ${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const apps = (): AppInfo[] => JSON.parse(pm2('jlist')) as AppInfo[];
  const gateways = (): AppInfo[] => apps().filter((a) => a.name === 'camfan-gateway');
  const base = (): string => `http://127.0.0.1:${port}`;

  /** One request on a fresh connection (no keep-alive), so SO_REUSEPORT spreads them over the gateways. */
  const healthz = (): Promise<{ status: number; pid: number }> =>
    new Promise((resolve, reject) => {
      const req = http.get(`${base()}/healthz`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, pid: (JSON.parse(body) as { pid: number }).pid }));
      });
      req.on('error', reject);
      req.setTimeout(3000, () => req.destroy(new Error('timeout')));
    });

  before(async () => {
    port = await freePort();
    env = {
      ...process.env,
      PM2_HOME: home,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOCAL_REDIS_PORT: String(await freePort()),
      GATEWAY_INSTANCES: '2',
      CAMERAS: 'cam0=test,cam1=test',
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      CAPTURE_FPS: '15',
    };
    delete env.REDIS_URL;
    pm2('start', path.join(ROOT, 'ecosystem.config.js'));
    await waitFor(
      'every app online',
      () => {
        const list = apps();
        return list.length === 5 && list.every((a) => a.pm2_env.status === 'online');
      },
      30000,
      250,
    );
    await waitFor('cam0 and cam1 live', async () => (await fetch(`${base()}/snapshot/cam0`)).ok && (await fetch(`${base()}/snapshot/cam1`)).ok, 20000, 250);
  });

  after(() => {
    try {
      pm2('kill');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('pm2 runs redis, one capture per camera and two gateways, all online', () => {
    const names = apps()
      .map((a) => a.name)
      .sort();
    assert.deepEqual(names, ['camfan-capture-cam0', 'camfan-capture-cam1', 'camfan-gateway', 'camfan-gateway', 'camfan-redis']);
  });

  test('both gateway instances serve viewers on the one port', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) pids.add((await healthz()).pid);
    assert.deepEqual(
      [...pids].sort(),
      gateways()
        .map((g) => g.pid)
        .sort(),
    );
  });

  test('two cameras stream different pictures', async () => {
    const a = openStream(`${base()}/stream/cam0`);
    const b = openStream(`${base()}/stream/cam1`);
    await waitFor('frames', () => a.count >= 3 && b.count >= 3, 5000);
    a.close();
    b.close();
    const cam = (jpeg: Buffer): string | undefined => / cam=(\S+)/.exec(jpeg.toString('latin1', 6, 80))?.[1];
    assert.ok(a.parts.every((p) => cam(p.jpeg) === 'cam0') && b.parts.every((p) => cam(p.jpeg) === 'cam1'));
  });

  test('kill -9 of a gateway: pm2 restarts it and viewers on the other never stall', async () => {
    const streams = Array.from({ length: 16 }, () => openStream(`${base()}/stream/cam0`, { keepParts: true }));
    await waitFor('all streaming', () => streams.every((s) => s.count >= 3), 8000);
    const [victim] = gateways();
    process.kill(victim!.pid, 'SIGKILL');
    const killedAt = Date.now();
    await sleep(2500);
    await waitFor(
      'pm2 restarted the gateway',
      () => {
        const g = gateways().find((x) => x.pm2_env.pm_id === victim!.pm2_env.pm_id);
        return g !== undefined && g.pm2_env.status === 'online' && g.pid !== victim!.pid && g.pm2_env.restart_time >= 1;
      },
      15000,
      250,
    );
    for (const s of streams) s.close();
    const survivors = streams.filter((s) => s.parts.some((p) => p.receivedAt > killedAt + 2000));
    const ended = streams.length - survivors.length;
    assert.ok(survivors.length > 0 && ended > 0, `${survivors.length} streams on the surviving gateway, ${ended} on the killed one`);
    for (const s of survivors) {
      const gaps = s.parts.slice(1).map((p, i) => p.receivedAt - s.parts[i]!.receivedAt);
      assert.ok(Math.max(...gaps) < 500, `largest gap on a surviving stream: ${Math.max(...gaps).toFixed(0)} ms`);
    }
    assert.equal((await healthz()).status, 200);
  });

  test('pm2 reload under load: no request refused, viewers of old instances ended cleanly', async () => {
    const before = gateways().map((g) => g.pid);
    const viewer = openStream(`${base()}/stream/cam1`);
    await waitFor('streaming', () => viewer.count >= 2, 5000);
    let ok = 0;
    const failures: string[] = [];
    let reloading = true;
    const load = (async () => {
      while (reloading) {
        try {
          const r = await healthz();
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
        await sleep(5);
      }
    })();
    pm2('reload', 'camfan-gateway');
    await waitFor(
      'new gateways online',
      () => {
        const g = gateways();
        return g.length === 2 && g.every((x) => x.pm2_env.status === 'online' && !before.includes(x.pid));
      },
      30000,
      100,
    );
    await sleep(500);
    reloading = false;
    await load;
    await viewer.closed;
    assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} requests failed during the reload`);
    assert.ok(ok > 50, `${ok} requests answered during the reload`);
    assert.deepEqual(viewer.invalid, []);
    assert.equal(viewer.leftover(), 0, 'the old instance ended the stream at a part boundary');
  });
});
