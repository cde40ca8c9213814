/**
 * npm start / npm run status / npm stop as an operator uses them: started with CAMERAS (then
 * CAMERAS_FILE) and PORT in the environment, then status and stop from a shell where none of those is set.
 * Status must find the port and Redis in pm2's record; stop must delete every camfan app of this
 * checkout, and nothing else pm2 runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, ROOT } from '../../harness/procs.js';

const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2');

describe('npm start, status and stop, whatever the environment of the later commands', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'camfan-pm2-scripts-'));
  /** What an operator's new shell has: no camfan settings at all. */
  const plain: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: home };
  for (const k of [
    'CAMERAS',
    'CAMERAS_FILE',
    'PORT',
    'HOST',
    'REDIS_URL',
    'LOCAL_REDIS_PORT',
    'CAMERA_ID',
    'CAPTURE_SOURCE',
    'GATEWAY_INSTANCES',
    'AUTH_TOKEN',
    'OPERATOR_TOKEN',
  ])
    delete plain[k];

  const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv): { status: number | null; out: string } => {
    const r = spawnSync(cmd, args, { env, cwd: ROOT, encoding: 'utf8', timeout: 90000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const names = (): string[] => (JSON.parse(sh(PM2, ['jlist'], plain).out) as Array<{ name: string }>).map((a) => a.name).sort();

  before(() => {
    // Something else the same pm2 runs: npm stop must leave it alone.
    const other = sh(PM2, ['start', 'sleep', '--name', 'not-camfan', '--', '600'], plain);
    assert.equal(other.status, 0, other.out);
  });

  after(() => {
    sh(PM2, ['kill'], plain);
    rmSync(home, { recursive: true, force: true });
  });

  const startWith = async (extra: NodeJS.ProcessEnv): Promise<void> => {
    const env = {
      ...plain,
      LOCAL_REDIS_PORT: String(await freePort()),
      GATEWAY_INSTANCES: '1',
      CAPTURE_WIDTH: '160',
      CAPTURE_HEIGHT: '120',
      CAPTURE_FPS: '5',
      ...extra,
    };
    const r = sh('npm', ['start'], env);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`open: +http://127\\.0\\.0\\.1:${extra.PORT}/`));
  };

  const statusThenStop = (port: string, cameras: string[]): void => {
    const status = sh('npm', ['run', '--silent', 'status'], plain);
    assert.equal(status.status, 0, status.out);
    assert.match(status.out, new RegExp(`cameras \\(http://127\\.0\\.0\\.1:${port}/\\)`), status.out);
    assert.match(status.out, /redis +redis:\/\/127\.0\.0\.1:\d+\/? +PONG in \d+ ms/, status.out);
    for (const cam of cameras) assert.match(status.out, new RegExp(`^  ${cam} +live`, 'm'), status.out);
    assert.match(status.out, /viewers per gateway process\n {2}pid \d+/, status.out);
    const stop = sh('npm', ['stop'], plain);
    assert.equal(stop.status, 0, stop.out);
    assert.deepEqual(names(), ['not-camfan'], 'every camfan app deleted, the other app left');
  };

  test('started with CAMERAS and PORT: status and stop from a plain shell', async () => {
    const port = String(await freePort());
    await startWith({ CAMERAS: 'door=test,yard=test', PORT: port, HOST: '127.0.0.1' });
    assert.deepEqual(names(), ['camfan-capture-door', 'camfan-capture-yard', 'camfan-gateway', 'camfan-redis', 'not-camfan']);
    statusThenStop(port, ['door', 'yard']);
  });

  test('started with CAMERAS_FILE and PORT: status and stop from a plain shell', async () => {
    const file = path.join(home, 'cameras.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'north', source: 'test', fps: 5 },
        { id: 'south', source: 'test', width: 320, height: 240 },
      ]),
    );
    const port = String(await freePort());
    await startWith({ CAMERAS_FILE: file, PORT: port });
    statusThenStop(port, ['north', 'south']);
    const again = sh('npm', ['stop'], plain);
    assert.equal(again.status, 0);
    assert.match(again.out, /nothing to stop/);
  });
});
