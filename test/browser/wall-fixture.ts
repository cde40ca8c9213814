/**
 * The real parts a page test needs: redis-server, one capture process per camera (the test pattern, small
 * sizes: this machine has 2 cores) and a gateway. Stopped in reverse order.
 */
import { after, before } from 'node:test';
import { type BrowserName, closeAll, launchAll, type TestBrowser } from './browsers.js';
import { startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';

export interface CameraSpec {
  camera: string;
  width: number;
  height: number;
  fps: number;
}

export interface Wall {
  redis: RedisHandle;
  gateway: GatewayHandle;
  captures: Map<string, Proc>;
  /** Starts (or restarts) one camera's capture. */
  startCamera(spec: CameraSpec): Proc;
  stop(): Promise<void>;
}

export function cameras(n: number, width = 320, height = 240, fps = 10): CameraSpec[] {
  return Array.from({ length: n }, (_, i) => ({ camera: `cam${i}`, width, height, fps }));
}

export async function startWall(specs: readonly CameraSpec[], gatewayEnv: Record<string, string> = {}): Promise<Wall> {
  const redis = await startRedis();
  const captures = new Map<string, Proc>();
  const startCamera = (s: CameraSpec): Proc => {
    const p = startCapture({
      REDIS_URL: redis.url,
      CAMERA_ID: s.camera,
      CAPTURE_SOURCE: 'test',
      CAPTURE_WIDTH: String(s.width),
      CAPTURE_HEIGHT: String(s.height),
      CAPTURE_FPS: String(s.fps),
    });
    captures.set(s.camera, p);
    return p;
  };
  specs.forEach(startCamera);
  let gateway: GatewayHandle;
  try {
    gateway = await startGateway({ REDIS_URL: redis.url, ...gatewayEnv });
    await Promise.all(specs.map((s) => waitForFrames(redis, s.camera, 40000)));
  } catch (err) {
    await Promise.all([...captures.values()].map((c) => c.stop()));
    await redis.stop();
    throw err;
  }
  const wall: Wall = {
    redis,
    gateway,
    captures,
    startCamera,
    async stop() {
      await Promise.all([wall.gateway.stop(), ...[...captures.values()].map((c) => c.stop())]);
      await redis.stop();
    },
  };
  return wall;
}

/**
 * The wall and every browser, started at the same time: a browser's launch mostly waits on the browser
 * starting up, which the captures' start need not wait for. Whatever started is stopped if the other fails.
 */
/** Starts a wall before the tests of the describe it is called in and stops it after them; `wall` is set once before() has run. */
export function withWall(specs: readonly CameraSpec[], gatewayEnv: Record<string, string> = {}): { wall: Wall } {
  const held = {} as { wall: Wall };
  before(async () => {
    held.wall = await startWall(specs, gatewayEnv);
  });
  after(async () => {
    await held.wall?.stop();
  });
  return held;
}

export async function startWallAndBrowsers(
  specs: readonly CameraSpec[],
  gatewayEnv: Record<string, string> = {},
): Promise<{ wall: Wall; browsers: Map<BrowserName, TestBrowser> }> {
  const [wall, browsers] = await Promise.allSettled([startWall(specs, gatewayEnv), launchAll()]);
  if (wall.status === 'fulfilled' && browsers.status === 'fulfilled') return { wall: wall.value, browsers: browsers.value };
  if (wall.status === 'fulfilled') await wall.value.stop();
  if (browsers.status === 'fulfilled') await closeAll(browsers.value.values());
  throw wall.status === 'rejected' ? wall.reason : (browsers as PromiseRejectedResult).reason;
}
