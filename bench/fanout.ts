/** One fan-out measurement: N viewers (some slow) against a server, for a fixed window. */
import type { Redis } from 'ioredis';
import { LoadViewer } from './load-client.js';
import { cpuSeconds, median, percentile, rssBytes } from './stats.js';

export interface Target {
  name: string;
  port: number;
  path: string;
  pids: number[];
}

export interface FanoutOptions {
  clients: number;
  slowFraction: number;
  slowRate: number;
  warmupSeconds: number;
  seconds: number;
  /** Gateway RSS before any viewer connected, for RSS per viewer. */
  baselineRss: number;
  redis: Redis;
  progress: (line: string) => void;
}

export interface FanoutResult {
  target: string;
  clients: number;
  slowClients: number;
  processes: number;
  seconds: number;
  fpsMin: number;
  fpsP50: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  slowFpsP50: number | null;
  slowLatencyP50: number | null;
  ttffP50: number;
  ttffP99: number;
  invalidParts: number;
  disconnected: number;
  deliveredFrames: number;
  cpuPer1000Frames: number;
  cpuCores: number;
  rssMB: number;
  rssGrowthMB: number;
  rssPerClientKB: number;
  redisEgressMBps: number;
  loadClientCpuCores: number;
  frameBytes: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function redisOutputBytes(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? NaN);
}

interface Tally {
  slow: boolean;
  frames: number;
  latencies: number[];
}

/**
 * Time to first frame as a viewer arriving at a busy server sees it: probes connect one after another
 * while the N viewers stream (connecting N at once would measure the accept queue instead).
 */
async function probeFirstFrames(target: Target, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const probe = new LoadViewer({ port: target.port, path: target.path });
    const until = performance.now() + 2000;
    while (probe.firstPartAt === null && performance.now() < until) await sleep(1);
    out.push(probe.firstPartAt === null ? Number.NaN : probe.firstPartAt - probe.connectedAt);
    probe.close();
    await sleep(20);
  }
  return out;
}

export async function fanout(target: Target, o: FanoutOptions): Promise<FanoutResult> {
  const slowCount = Math.round(o.clients * o.slowFraction);
  let measuring = false;
  let frameBytes = 0;
  const tallies: Tally[] = [];
  const viewers: LoadViewer[] = [];
  for (let i = 0; i < o.clients; i++) {
    const t: Tally = { slow: i < slowCount, frames: 0, latencies: [] };
    tallies.push(t);
    viewers.push(
      new LoadViewer({
        port: target.port,
        path: target.path,
        ...(t.slow ? { readBytesPerSecond: o.slowRate } : {}),
        onPart: (latency, bytes) => {
          if (!measuring) return;
          t.frames++;
          t.latencies.push(latency);
          frameBytes = bytes;
        },
      }),
    );
    if (i % 50 === 49) await sleep(5); // let the server accept in batches, as real arrivals would be spread
  }
  await sleep(o.warmupSeconds * 1000);
  const cpu0 = target.pids.map(cpuSeconds);
  const rss0 = target.pids.reduce((s, pid) => s + rssBytes(pid), 0);
  const self0 = process.cpuUsage();
  const out0 = await redisOutputBytes(o.redis);
  const t0 = performance.now();
  measuring = true;
  for (let s = 1; s <= o.seconds; s++) {
    await sleep(1000);
    const delivered = tallies.reduce((a, t) => a + t.frames, 0);
    o.progress(`  ${target.name} ${o.clients} viewers: ${s}/${o.seconds} s, ${Math.round(delivered / s / Math.max(1, o.clients))} fps/viewer`);
  }
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const ttff = await probeFirstFrames(target, 20);
  const cpu = target.pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu0[i]!, 0);
  const self = process.cpuUsage(self0);
  const out = await redisOutputBytes(o.redis);
  const rss = target.pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
  const disconnected = viewers.filter((v) => v.closed).length;
  for (const v of viewers) v.close();
  const fast = tallies.filter((t) => !t.slow);
  const slow = tallies.filter((t) => t.slow);
  const fps = (ts: Tally[]): number[] => ts.map((t) => t.frames / elapsed);
  const lat = fast.flatMap((t) => t.latencies);
  const delivered = tallies.reduce((a, t) => a + t.frames, 0);
  await sleep(1500);
  return {
    target: target.name,
    clients: o.clients,
    slowClients: slowCount,
    processes: target.pids.length,
    seconds: elapsed,
    fpsMin: fps(fast).reduce((a, b) => Math.min(a, b), Infinity),
    fpsP50: median(fps(fast)),
    latencyP50: median(lat),
    latencyP99: percentile(lat, 99),
    latencyMax: lat.reduce((a, b) => Math.max(a, b), -Infinity),
    slowFpsP50: slow.length ? median(fps(slow)) : null,
    slowLatencyP50: slow.length ? median(slow.flatMap((t) => t.latencies)) : null,
    ttffP50: median(ttff),
    ttffP99: percentile(ttff, 99),
    invalidParts: viewers.reduce((a, v) => a + v.invalid, 0),
    disconnected,
    deliveredFrames: delivered,
    cpuPer1000Frames: (cpu / delivered) * 1000,
    cpuCores: cpu / elapsed,
    rssMB: rss / 2 ** 20,
    rssGrowthMB: (rss - rss0) / 2 ** 20,
    rssPerClientKB: (rss - o.baselineRss) / 1024 / o.clients,
    redisEgressMBps: (out - out0) / elapsed / 2 ** 20,
    loadClientCpuCores: (self.user + self.system) / 1e6 / elapsed,
    frameBytes,
  };
}
