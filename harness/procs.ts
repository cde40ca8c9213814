/**
 * Starts the real parts for integration tests: redis-server, capture and gateway processes, each on a free
 * port, and returns handles whose stop() the test registers with t.after(). A missing tool fails the test
 * with the line that installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { CameraInfo } from '../bus/bus.js';
import { channels } from '../bus/channels.js';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');

export function requireTool(cmd: string, install: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
  if (r.status !== 0) throw new Error(`${cmd} is not installed: run \`${install}\` (or npm run setup)`);
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** Pids of the processes whose parent is `pid` (the capture's source process, for instance). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(pid)) out.push(Number(p));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

export interface Proc {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<number | null> | null = null;
  return {
    child,
    output: () => out,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(t);
        return code;
      })()),
  };
}

export interface RedisHandle extends Proc {
  port: number;
  url: string;
  client(): Redis;
}

/** extraArgs: more redis-server options, e.g. ['--replicaof', '127.0.0.1', '6379']. */
export async function startRedis(extraArgs: string[] = []): Promise<RedisHandle> {
  requireTool('redis-server', 'sudo apt-get install -y redis-server');
  const port = await freePort();
  // A replica loads its full sync straight into memory: no dump.rdb left in the working directory.
  const proc = run('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-load',
    'swapdb',
    ...extraArgs,
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const clients: Redis[] = [];
  await waitFor('redis-server to answer PING', async () => {
    const r = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined); // refused until the server is up: expected while we poll
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  });
  const stop = proc.stop;
  return {
    ...proc,
    port,
    url,
    client: () => {
      const c = new Redis(url);
      c.on('error', () => undefined); // a test may kill the server on purpose
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.disconnect();
      return stop();
    },
  };
}

export function startCapture(env: Record<string, string>): Proc {
  return run(process.execPath, [path.join(DIST, 'capture', 'main.js')], { LOG_LEVEL: 'info', ...env });
}

export interface GatewayHandle extends Proc {
  host: string;
  port: number;
  base: string;
}

export async function startGateway(env: Record<string, string>): Promise<GatewayHandle> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const host = env.HOST ?? '127.0.0.1';
  const proc = run(process.execPath, [path.join(DIST, 'gateway', 'main.js')], { ...env, HOST: host, PORT: String(port) });
  const base = `http://${host}:${port}`;
  // With several gateways on one port (SO_REUSEPORT) /healthz may be answered by another one: wait for this one's log line.
  await waitFor(`gateway on ${base}`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`gateway exited: ${proc.output()}`);
    return proc.output().includes('gateway listening') && (await fetch(`${base}/healthz`)).ok;
  });
  return { ...proc, host, port, base };
}

/**
 * A capture serving the cameras of a CAMERAS_FILE as they come (their own size, every frame, no idle
 * frames): the set-up of the tests of many HTTP cameras in one process. `extra` adds or overrides settings.
 */
export function camerasFileEnv(redisUrl: string, file: string, extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: redisUrl, CAMERAS_FILE: file, CAPTURE_WIDTH: 'source', CAPTURE_HEIGHT: 'source', IDLE_FPS: '0', DROP_SAME_FRAMES: 'off', ...extra };
}

/** A camera's entry in the camera list as its capture wrote it (parsed, unchecked), or null if it has none. */
export async function cameraEntry(c: Redis, camera: string): Promise<Partial<CameraInfo> | null> {
  const json = await c.get(channels.camera(camera));
  return json === null ? null : (JSON.parse(json) as Partial<CameraInfo>);
}

/** Waits until the capture has published a frame (its latest-frame key exists) and announced itself. */
export async function waitForFrames(redis: { client(): Redis }, camera: string, timeoutMs = 15000): Promise<void> {
  const c = redis.client();
  try {
    await waitFor(
      `first frame of ${camera}`,
      async () => (await c.exists(channels.latest(camera))) === 1 && ((await cameraEntry(c, camera))?.lastFrameAt ?? 0) > 0,
      timeoutMs,
    );
  } finally {
    c.disconnect();
  }
}

/** A test-pattern MJPEG clip made by ffmpeg; quality is ffmpeg's -q:v (2 best, 31 worst). */
export function makeClip(file: string, seconds: number, size = '320x240', fps = 15, quality = 5): void {
  requireTool('ffmpeg', 'sudo apt-get install -y ffmpeg');
  const r = spawnSync('ffmpeg', [
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`,
    '-c:v',
    'mjpeg',
    '-q:v',
    String(quality),
    file,
  ]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
}
