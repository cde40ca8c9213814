/**
 * What a bench run measures, started on free ports: redis-server and a capture (shared by every trial),
 * and, one at a time, the server under test: camfan's gateways (N processes on one port) or the C
 * baseline server (bench/c/baseline-server.c).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  freePort,
  requireTool,
  startCapture,
  startGateway,
  startRedis,
  waitForFrames,
  type GatewayHandle,
  type Proc,
  type RedisHandle,
} from '../harness/procs.js';
import { cProgram } from '../harness/c-build.js';

/** What is running now, so that an interrupted bench (Ctrl-C, SIGTERM) leaves no process behind. */
const running = new Set<() => Promise<void>>();

/** Registers a stop function until it has run once; returns the wrapped stop. */
export function tracked(stop: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = (): Promise<void> => {
    running.delete(once);
    done ??= stop();
    return done;
  };
  running.add(once);
  return once;
}

/** Stops everything still running (newest first). */
export async function stopAll(): Promise<void> {
  for (const stop of [...running].reverse()) await stop().catch(() => undefined);
}

export interface Target {
  name: string;
  port: number;
  path: string;
  pids: number[];
  /** CLIENT SETNAME of the server's Redis subscriber connection(s). */
  subscriberName: string;
}

export interface Server {
  target: Target;
  stop(): Promise<void>;
}

export interface Capture {
  width: number;
  height: number;
  fps: number;
  quality: number;
  source: 'test' | 'clip';
}

export interface Stack {
  redis: RedisHandle;
  capture: Proc;
  /** The CAPTURE_SOURCE used: 'test' or the clip's path. */
  captureSource: string;
  /** CLIENT LIST ids of the connections open before any server started (the capture's). */
  captureConnectionIds: ReadonlySet<string>;
  stop(): Promise<void>;
}

/** A detailed 720p-like picture (ffmpeg's testsrc2), MJPEG at high quality so the capture's re-encode sets the size. */
export function makeClip(width: number, height: number, fps: number, seconds = 10): string {
  requireTool('ffmpeg', 'sudo apt-get install -y ffmpeg');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'camfan-bench-')), 'testsrc2.avi');
  const r = spawnSync(
    'ffmpeg',
    ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`, '-c:v', 'mjpeg', '-q:v', '2', file],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed to make the clip: ${r.stderr}`);
  return file;
}

export async function startStack(c: Capture): Promise<Stack> {
  const redis = await startRedis();
  const captureSource = c.source === 'clip' ? makeClip(c.width, c.height, c.fps) : 'test';
  const capture = startCapture({
    REDIS_URL: redis.url,
    CAPTURE_SOURCE: captureSource,
    CAPTURE_WIDTH: String(c.width),
    CAPTURE_HEIGHT: String(c.height),
    CAPTURE_FPS: String(c.fps),
    JPEG_QUALITY: String(c.quality),
    LOG_LEVEL: 'warn',
  });
  const stop = tracked(async () => {
    await capture.stop();
    await redis.stop();
  });
  try {
    await waitForFrames(redis, 'cam0', 30000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\ncapture output:\n${capture.output()}`);
  }
  const rc = redis.client();
  const list = String(await rc.call('CLIENT', 'LIST'));
  rc.disconnect();
  const captureConnectionIds = new Set([...list.matchAll(/(?:^|\n)id=(\d+)/g)].map((m) => m[1]!));
  return { redis, capture, captureSource, captureConnectionIds, stop };
}

export async function startGateways(redisUrl: string, processes: number): Promise<Server> {
  const port = await freePort();
  const gateways: GatewayHandle[] = [];
  try {
    // One load client on loopback opens thousands of viewers: no per-address request rate.
    for (let i = 0; i < processes; i++)
      gateways.push(await startGateway({ REDIS_URL: redisUrl, PORT: String(port), LOG_LEVEL: 'info', REQUEST_RATE_PER_IP: '0' }));
  } catch (err) {
    await Promise.all(gateways.map((g) => g.stop()));
    throw err;
  }
  const name = processes > 1 ? `camfan ×${processes}` : 'camfan';
  return {
    target: { name, port, path: '/video_feed?framing=classic', pids: gateways.map((g) => g.child.pid!), subscriberName: 'camfan-subscriber' },
    stop: tracked(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
    }),
  };
}

/** The C baseline: same Redis channel, same part bytes, epoll + writev. */
export async function startBaseline(redis: RedisHandle): Promise<Server> {
  const port = await freePort();
  const subscriberName = 'camfan-baseline-subscriber';
  const child = spawn(cProgram('baseline-server'), ['127.0.0.1', String(redis.port), 'cam0', String(port), subscriberName], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`baseline server exited ${code}: ${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    target: { name: 'C baseline', port, path: '/', pids: [child.pid!], subscriberName },
    stop: tracked(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    }),
  };
}
