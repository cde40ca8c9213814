/**
 * What the overload sweep watches while a server is loaded: /healthz answered (a fresh connection every
 * ~100 ms, as a load balancer's health check would open), and the Redis output buffer of the server's
 * subscriber connection(s) (CLIENT LIST omem, every ~250 ms): frames Redis holds because the server has
 * not read them yet.
 */
import { request } from 'node:http';
import type { Redis } from 'ioredis';
import { percentile } from '../harness/stats.js';

export interface HealthzFigures {
  probes: number;
  /** Timed out, refused, or not 200. */
  failures: number;
  p50: number;
  /** Infinity when 1% or more of the probes failed. */
  p99: number;
  max: number;
}

function probeOnce(port: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : Infinity));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(Infinity));
    req.end();
  });
}

/** Probes /healthz every intervalMs until stop(); stop() waits for the probes in flight. */
export function healthzProber(port: number, timeoutMs: number, intervalMs = 100): { stop(): Promise<HealthzFigures> } {
  const pending: Array<Promise<number>> = [];
  const timer = setInterval(() => pending.push(probeOnce(port, timeoutMs)), intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      const ms = await Promise.all(pending);
      const answered = ms.filter(Number.isFinite);
      return {
        probes: ms.length,
        failures: ms.length - answered.length,
        p50: percentile(ms, 50),
        p99: percentile(ms, 99),
        max: ms.reduce((a, b) => Math.max(a, b), 0),
      };
    },
  };
}

export interface OutputBufferFigures {
  samples: number;
  /** Largest omem of any one subscriber connection, bytes. */
  peakBytes: number;
  /** Fewest subscriber connections seen in a sample (fewer than the server's processes: Redis cut one). */
  fewestConnections: number;
}

/** Parses CLIENT LIST: id and omem of each connection with that name. */
export function namedConnections(clientList: string, name: string): Array<{ id: string; omem: number }> {
  const out: Array<{ id: string; omem: number }> = [];
  for (const line of clientList.split('\n')) {
    if (!new RegExp(`(^| )name=${name}( |$)`).test(line)) continue;
    out.push({ id: /(?:^| )id=(\d+)/.exec(line)?.[1] ?? '', omem: Number(/ omem=(\d+)/.exec(line)?.[1] ?? NaN) });
  }
  return out;
}

/**
 * Samples the omem of the connections named subscriberName, except those in `ignore` (the capture's own
 * subscriber has the same name as the gateways': it listens for wake-ups).
 */
export function outputBufferSampler(
  redis: Redis,
  subscriberName: string,
  ignore: ReadonlySet<string>,
  intervalMs = 250,
): { stop(): Promise<OutputBufferFigures> } {
  const figures: OutputBufferFigures = { samples: 0, peakBytes: 0, fewestConnections: Infinity };
  let busy: Promise<void> = Promise.resolve();
  const sample = async (): Promise<void> => {
    let list: string;
    try {
      list = String(await redis.call('CLIENT', 'LIST'));
    } catch {
      return; // Redis busy or gone: no sample (the count of samples shows it)
    }
    const omem = namedConnections(list, subscriberName)
      .filter((c) => !ignore.has(c.id))
      .map((c) => c.omem);
    figures.samples++;
    figures.peakBytes = Math.max(figures.peakBytes, ...omem);
    figures.fewestConnections = Math.min(figures.fewestConnections, omem.length);
  };
  const timer = setInterval(() => (busy = busy.then(sample)), intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await busy;
      return figures;
    },
  };
}
