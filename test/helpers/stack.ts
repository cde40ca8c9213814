/**
 * The set-up most integration suites share: a redis-server of their own, some captures and gateways on
 * it, frames on the bus before the first test, and everything stopped after the last one (gateways and
 * captures together, then Redis, so that nothing logs a lost connection while it shuts down).
 */
import { after, before } from 'node:test';
import { startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';

export type { GatewayHandle, Proc, RedisHandle };

export interface StackPlan {
  /** One environment per capture; REDIS_URL is this stack's unless the entry sets its own. */
  captures?: Record<string, string>[];
  /** One environment per gateway, as for captures. */
  gateways?: Record<string, string>[];
  /** The cameras whose frames must be on the bus before the tests run; every capture's CAMERA_ID unless given. */
  frames?: string[];
  /** Wait for those frames before the gateways start (a gateway that finds the cameras already there). */
  framesFirst?: boolean;
}

export interface Stack {
  /** Set once before() has run. */
  redis: RedisHandle;
  /** The first of `gateways`; set once before() has run. */
  gateway: GatewayHandle;
  gateways: GatewayHandle[];
  /** The plan's captures, and any process a test adds here to be stopped with the stack. */
  captures: Proc[];
}

/**
 * Registers before() and after() in the describe it is called in. `plan` runs in before(), once Redis is
 * up, so that it can make files (a clip) and name the Redis it got.
 */
export function withStack(plan: (redis: RedisHandle) => StackPlan | Promise<StackPlan> = () => ({})): Stack {
  const stack = { gateways: [], captures: [] } as unknown as Stack;
  before(async () => {
    stack.redis = await startRedis();
    const p = await plan(stack.redis);
    const env = (e: Record<string, string>): Record<string, string> => ({ REDIS_URL: stack.redis.url, ...e });
    for (const c of p.captures ?? []) stack.captures.push(startCapture(env(c)));
    const cameras: (string | undefined)[] = p.frames ?? (p.captures ?? []).map((c) => c.CAMERA_ID);
    if (cameras.includes(undefined)) throw new Error('withStack: a capture without CAMERA_ID; name the cameras to wait for in `frames`');
    const frames = (): Promise<unknown> => Promise.all(cameras.map((c) => waitForFrames(stack.redis, c!)));
    if (p.framesFirst) await frames();
    stack.gateways.push(...(await Promise.all((p.gateways ?? []).map((g) => startGateway(env(g))))));
    stack.gateway = stack.gateways[0]!;
    if (!p.framesFirst) await frames();
  });
  after(async () => {
    await Promise.all([...stack.gateways.map((g) => g.stop()), ...stack.captures.map((c) => c.stop())]);
    await stack.redis?.stop();
  });
  return stack;
}
