/**
 * The fan-out trial with the Node load client (harness/load-client.ts) in this process, kept to cross-check
 * the C client (`--node-client`): it costs about a core at 800 viewers, so past a few hundred viewers it
 * measures itself.
 */
import { redisOutputBytes, type FanoutOptions, type FanoutResult } from './fanout.js';
import { LoadViewer } from '../harness/load-client.js';
import type { Target } from './stack.js';
import { cpuSeconds, machineCpu, median, percentile, rssBytes } from '../harness/stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

export async function fanoutNode(target: Target, o: FanoutOptions): Promise<FanoutResult> {
  const baselineRss = target.pids.reduce((s, pid) => s + rssBytes(pid), 0);
  const slowCount = Math.round(o.clients * o.slowFraction);
  let measuring = false;
  let frameBytes = 0;
  const tallies: Tally[] = [];
  const connectStart = performance.now();
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
  const connectSeconds = (performance.now() - connectStart) / 1000;
  await sleep(o.warmupSeconds * 1000);
  const bytes0 = viewers.reduce((a, v) => a + v.socket.bytesRead, 0);
  o.onWindow?.('start');
  const cpu0 = target.pids.map(cpuSeconds);
  const rss0 = target.pids.reduce((s, pid) => s + rssBytes(pid), 0);
  const self0 = process.cpuUsage();
  const machine0 = machineCpu();
  const out0 = await redisOutputBytes(o.redis);
  const t0 = performance.now();
  measuring = true;
  for (let s = 1; s <= o.seconds; s++) {
    await sleep(1000);
    const delivered = tallies.reduce((a, t) => a + t.frames, 0);
    o.progress?.(`  ${target.name} ${o.clients} viewers: ${s}/${o.seconds} s, ${Math.round(delivered / s / Math.max(1, o.clients))} fps/viewer`);
  }
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = target.pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu0[i]!, 0);
  const self = process.cpuUsage(self0);
  const machine1 = machineCpu();
  const bytes = viewers.reduce((a, v) => a + v.socket.bytesRead, 0) - bytes0;
  o.onWindow?.('end');
  const ttff = await probeFirstFrames(target, o.probes);
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
    pass: 0,
    client: 'node',
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
    ttffP99: percentile(
      ttff.map((x) => (Number.isNaN(x) ? Infinity : x)),
      99,
    ),
    ttffTimeouts: ttff.filter((x) => Number.isNaN(x)).length,
    connectSeconds,
    invalidParts: viewers.reduce((a, v) => a + v.invalid, 0),
    disconnected,
    refused: 0,
    deliveredFrames: delivered,
    deliveredBytes: bytes,
    cpuPer1000Frames: (cpu / delivered) * 1000,
    cpuPerGB: cpu / (bytes / 1e9),
    cpuCores: cpu / elapsed,
    rssMB: rss / 2 ** 20,
    rssGrowthMB: (rss - rss0) / 2 ** 20,
    rssPerClientKB: (rss - baselineRss) / 1024 / o.clients,
    redisEgressMBps: (out - out0) / elapsed / 2 ** 20,
    loadClientCpuCores: (self.user + self.system) / 1e6 / elapsed,
    machineBusyCores: (machine1.busy - machine0.busy) / elapsed,
    machineSoftirqCores: (machine1.softirq - machine0.softirq) / elapsed,
    frameBytes,
  };
}
