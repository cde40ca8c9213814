/**
 * One fan-out trial: N viewers (some slow) against a server for a fixed window, read by the C load client
 * (bench/c/load-client.c) in its own process. The server's CPU over the window is read by the client
 * itself from /proc, at the exact window edges; RSS and Redis egress are sampled here when the client
 * reports the window opening and closing (hooks let the overload sweep sample more).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import { cProgram } from '../harness/c-build.js';
import { tracked, type Target } from './stack.js';
import { rssBytes } from '../harness/stats.js';

export interface FanoutOptions {
  clients: number;
  slowFraction: number;
  slowRate: number;
  warmupSeconds: number;
  seconds: number;
  probes: number;
  redis: Redis;
  /** Called when the measured window opens and closes. */
  onWindow?: (phase: 'start' | 'end') => void;
  progress?: (line: string) => void;
}

export interface FanoutResult {
  target: string;
  /** Which pass of a --repeat run (0 for the first); ratios pair rows of the same pass. */
  pass: number;
  client: 'c' | 'node';
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
  /** Infinity when a probe got no frame within the probe timeout. */
  ttffP99: number;
  ttffTimeouts: number;
  /** Time to open the N viewers (C client: batches of 50, each waiting for its response heads). */
  connectSeconds: number;
  invalidParts: number;
  /** Viewers the server closed (or refused with a non-200 status). */
  disconnected: number;
  refused: number;
  deliveredFrames: number;
  deliveredBytes: number;
  cpuPer1000Frames: number;
  /** Server CPU seconds per 10^9 bytes delivered. */
  cpuPerGB: number;
  cpuCores: number;
  rssMB: number;
  rssGrowthMB: number;
  rssPerClientKB: number;
  redisEgressMBps: number;
  loadClientCpuCores: number;
  /** Cores the whole machine was busy during the window, and the softirq part (loopback TCP work that
   * may be charged to no process, so missing from the servers' CPU figures). */
  machineBusyCores: number;
  machineSoftirqCores: number;
  frameBytes: number;
}

/** What bench/c/client-report.c prints. Non-finite figures come as null. */
interface ClientReport {
  slowViewers: number;
  connectSeconds: number;
  connectFailed: number;
  refused: number;
  disconnected: number;
  seconds: number;
  fpsMin: number | null;
  fpsP50: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
  latencyMax: number | null;
  slowFpsP50: number | null;
  slowLatencyP50: number | null;
  ttffP50: number | null;
  ttffP99: number | null;
  probeTimeouts: number;
  invalidParts: number;
  deliveredFrames: number;
  deliveredBytes: number;
  frameBytes: number;
  serverCpuSeconds: number | null;
  clientCpuCores: number;
  machineBusyCores: number | null;
  machineSoftirqCores: number | null;
}

export async function redisOutputBytes(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? NaN);
}

const rssOf = (pids: number[]): number => pids.reduce((s, pid) => s + rssBytes(pid), 0);

function runClient(target: Target, o: FanoutOptions, onLine: (line: string) => void): Promise<ClientReport> {
  const args = [
    '--port',
    String(target.port),
    '--path',
    target.path,
    '--viewers',
    String(o.clients),
    '--warmup',
    String(o.warmupSeconds),
    '--seconds',
    String(o.seconds),
  ];
  args.push('--probes', String(o.probes), '--server-pids', target.pids.join(','));
  if (o.slowFraction > 0) args.push('--slow-fraction', String(o.slowFraction), '--slow-rate', String(o.slowRate));
  const child = spawn(cProgram('load-client'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = tracked(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr += `${line}\n`;
    onLine(line);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      void stop();
      if (code !== 0) reject(new Error(`load client exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as ClientReport);
    });
  });
}

const num = (x: number | null): number => x ?? Number.NaN;

export async function fanout(target: Target, o: FanoutOptions): Promise<FanoutResult> {
  const rssBefore = rssOf(target.pids);
  let rss0 = 0;
  let out0: Promise<number> = Promise.resolve(NaN);
  let rss1 = 0;
  let out1: Promise<number> = Promise.resolve(NaN);
  let t0 = 0;
  let timer: NodeJS.Timeout | null = null;
  const r = await runClient(target, o, (line) => {
    if (line === 'window start') {
      rss0 = rssOf(target.pids);
      out0 = redisOutputBytes(o.redis);
      t0 = performance.now();
      o.onWindow?.('start');
      timer = setInterval(() => o.progress?.(`  ${target.name} ${o.clients} viewers: ${Math.round((performance.now() - t0) / 1000)}/${o.seconds} s`), 1000);
    } else if (line === 'window end') {
      rss1 = rssOf(target.pids);
      out1 = redisOutputBytes(o.redis);
      o.onWindow?.('end');
      if (timer) clearInterval(timer);
    }
  });
  if (timer) clearInterval(timer);
  const cpu = num(r.serverCpuSeconds);
  return {
    target: target.name,
    pass: 0,
    client: 'c',
    clients: o.clients,
    slowClients: r.slowViewers,
    processes: target.pids.length,
    seconds: r.seconds,
    fpsMin: num(r.fpsMin),
    fpsP50: num(r.fpsP50),
    latencyP50: num(r.latencyP50),
    latencyP99: num(r.latencyP99),
    latencyMax: num(r.latencyMax),
    slowFpsP50: r.slowViewers ? num(r.slowFpsP50) : null,
    slowLatencyP50: r.slowViewers ? num(r.slowLatencyP50) : null,
    // null from the client: a probe got no frame (infinitely slow), unless there were no probes at all.
    ttffP50: o.probes ? (r.ttffP50 ?? Infinity) : NaN,
    ttffP99: o.probes ? (r.ttffP99 ?? Infinity) : NaN,
    ttffTimeouts: r.probeTimeouts,
    connectSeconds: r.connectSeconds,
    invalidParts: r.invalidParts,
    disconnected: r.disconnected + r.refused + r.connectFailed,
    refused: r.refused,
    deliveredFrames: r.deliveredFrames,
    deliveredBytes: r.deliveredBytes,
    cpuPer1000Frames: (cpu / r.deliveredFrames) * 1000,
    cpuPerGB: cpu / (r.deliveredBytes / 1e9),
    cpuCores: cpu / r.seconds,
    rssMB: rss1 / 2 ** 20,
    rssGrowthMB: (rss1 - rss0) / 2 ** 20,
    rssPerClientKB: (rss1 - rssBefore) / 1024 / o.clients,
    redisEgressMBps: ((await out1) - (await out0)) / r.seconds / 2 ** 20,
    loadClientCpuCores: r.clientCpuCores,
    machineBusyCores: num(r.machineBusyCores),
    machineSoftirqCores: num(r.machineSoftirqCores),
    frameBytes: r.frameBytes,
  };
}
