/**
 * What a fleet run reads: the C load client on the client host (through the balancer), each gateway
 * host's link counters and the primary's INFO stats over the load client's measured window, and where
 * each gateway host's Redis subscribers are connected (CLIENT LIST on the primary and on the replica).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { cProgram } from '../c-build.js';
import type { Fleet } from './fleet.js';
import type { Host } from './netns.js';

export interface LoadResult {
  viewers: number;
  seconds: number;
  deliveredBytes: number;
  deliveredFrames: number;
  frameBytes: number;
  fpsP50: number;
  fpsMin: number;
  latencyP50: number;
  latencyP99: number;
  disconnected: number;
  invalidParts: number;
  [key: string]: number;
}

export interface WindowSample {
  load: LoadResult;
  /** Client-side goodput: body bytes of whole parts received per second. */
  goodputBytesPerSecond: number;
  framesPerSecondPerViewer: number;
  /** Bytes per second each gateway host's link sent. */
  hostTxBytesPerSecond: number[];
  /** The primary's total_net_output_bytes per second. */
  primaryOutBytesPerSecond: number;
  loadAverage: number[];
}

function primaryOutBytes(primary: Host): number {
  const info = primary.exec('redis-cli', ['-p', '6379', 'info', 'stats']);
  const m = info.match(/total_net_output_bytes:(\d+)/);
  if (!m) throw new Error(`no total_net_output_bytes in INFO stats: ${info}`);
  return Number(m[1]);
}

interface Snapshot {
  t: number;
  primaryOut: number;
  hostTx: number[];
}

const snapshot = (f: Fleet): Snapshot => ({ t: performance.now(), primaryOut: primaryOutBytes(f.primary), hostTx: f.gateways.map((g) => g.counters().tx) });

/** Runs the load client with `viewers` viewers; the samples are taken when it opens and closes its window. */
export async function measureWindow(f: Fleet, viewers: number, warmup: number, seconds: number): Promise<WindowSample> {
  const args = ['--host', f.entry.host, '--port', String(f.entry.port), '--viewers', String(viewers), '--warmup', String(warmup)];
  args.push('--seconds', String(seconds), '--probes', '0', '--batch', '25');
  const child = spawn('ip', ['netns', 'exec', f.client.ns, cProgram('load-client'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let start: Snapshot | null = null;
  let end: Snapshot | null = null;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (!start && err.includes('window start')) start = snapshot(f);
    if (!end && err.includes('window end')) end = snapshot(f);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0 || !start || !end) throw new Error(`load client failed (${code}): ${err}`);
  const s = start as Snapshot;
  const e = end as Snapshot;
  const load = JSON.parse(out) as LoadResult;
  const dt = (e.t - s.t) / 1000;
  return {
    load,
    goodputBytesPerSecond: load.deliveredBytes / load.seconds,
    framesPerSecondPerViewer: load.deliveredFrames / load.seconds / Math.max(1, viewers),
    hostTxBytesPerSecond: e.hostTx.map((tx, i) => (tx - s.hostTx[i]!) / dt),
    primaryOutBytesPerSecond: (e.primaryOut - s.primaryOut) / dt,
    loadAverage: os.loadavg(),
  };
}

export interface Subscriptions {
  host: string;
  /** Pub/sub connections from this host on the primary. */
  onPrimary: number;
  /** Pub/sub connections on this host's replica (0 without one). */
  onReplica: number;
  /** Replication links from this host on the primary (flags contain S). */
  replicaLinks: number;
}

interface ClientLine {
  addr: string;
  flags: string;
  sub: number;
}

function clientList(host: Host, port: number): ClientLine[] {
  return host
    .exec('redis-cli', ['-p', String(port), 'client', 'list'], true)
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const field = (k: string): string => line.match(new RegExp(`(?:^| )${k}=(\\S*)`))?.[1] ?? '';
      return { addr: field('addr'), flags: field('flags'), sub: Number(field('sub') || 0) + Number(field('ssub') || 0) + Number(field('psub') || 0) };
    });
}

/** Where each gateway host's subscribers are: on the primary or on its own replica. */
export function subscriptions(f: Fleet, replicas: boolean): Subscriptions[] {
  const primary = clientList(f.primary, 6379);
  return f.gateways.map((g) => {
    const mine = primary.filter((c) => c.addr.startsWith(`${g.addr}:`));
    return {
      host: g.name,
      onPrimary: mine.filter((c) => c.sub > 0).length,
      onReplica: replicas ? clientList(g, 6380).filter((c) => c.sub > 0).length : 0,
      replicaLinks: mine.filter((c) => c.flags.includes('S')).length,
    };
  });
}
