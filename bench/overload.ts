/**
 * The overload sweep: at each viewer count, camfan with each number of gateway processes and then the C
 * baseline, one server at a time (bench/trials.ts), against the same capture. While the viewers stream,
 * /healthz is probed and the subscriber's Redis output buffer sampled.
 */
import type { Redis } from 'ioredis';
import { fanout, type FanoutResult } from './fanout.js';
import type { BenchOptions } from './options.js';
import { healthzProber, outputBufferSampler, type HealthzFigures, type OutputBufferFigures } from './samplers.js';
import type { Server, Stack } from './stack.js';
import { fmt } from '../harness/stats.js';
import { runTrials } from './trials.js';

export interface OverloadRow extends FanoutResult {
  healthz: HealthzFigures;
  outputBuffer: OutputBufferFigures;
}

async function trial(stack: Stack, server: Server, clients: number, o: BenchOptions, rc: Redis, progress: (l: string) => void): Promise<OverloadRow> {
  // Filled by the window hooks (an object, so that TypeScript does not narrow them to their initial value).
  const w: {
    prober?: ReturnType<typeof healthzProber>;
    sampler?: ReturnType<typeof outputBufferSampler>;
    healthz?: Promise<HealthzFigures>;
    outputBuffer?: Promise<OutputBufferFigures>;
  } = {};
  const r = await fanout(server.target, {
    clients,
    slowFraction: o.slow,
    slowRate: o.slowRate,
    warmupSeconds: o.warmup,
    seconds: o.seconds,
    probes: o.probes,
    redis: rc,
    progress,
    onWindow: (phase) => {
      if (phase === 'start') {
        w.prober = healthzProber(server.target.port, o.healthzTimeoutMs);
        w.sampler = outputBufferSampler(rc, server.target.subscriberName, stack.captureConnectionIds);
      } else {
        w.healthz = w.prober?.stop();
        w.outputBuffer = w.sampler?.stop();
      }
    },
  });
  if (!w.healthz || !w.outputBuffer) throw new Error(`the load client never opened or closed its window against ${server.target.name}`);
  return { ...r, healthz: await w.healthz, outputBuffer: await w.outputBuffer };
}

export function overloadSweep(stack: Stack, o: BenchOptions, rc: Redis, progress: (l: string) => void): Promise<OverloadRow[]> {
  return runTrials(
    stack,
    o,
    (server, clients) => trial(stack, server, clients, o, rc, progress),
    (r) =>
      `; /healthz p99 ${fmt(r.healthz.p99)} ms (${r.healthz.failures} of ${r.healthz.probes} failed), subscriber omem peak ${fmt(r.outputBuffer.peakBytes / 2 ** 20, 2)} MB`,
  );
}
