/**
 * npm run bench -- --fleet [--hosts 1,2,4] [--link-mbit 20] [--per-host 80] [--gateways 1,2,4] [--seconds 10]
 *
 * Root only. Two measurements, each configuration on a fresh fleet (bench/fleet/fleet.ts):
 *  - scaling: K gateway hosts (one gateway process each) behind nginx, --per-host viewers per host, so
 *    that each host's shaped link is what limits delivery; goodput(K) / (K × goodput(1)) says whether
 *    adding hosts adds their links (goal ≥ 0.9).
 *  - the primary's bytes out per second with 2 gateway hosts and --gateways processes per host, with a
 *    replica per host (REDIS_SUBSCRIBE_URL) and with every gateway subscribed on the primary; CLIENT LIST
 *    tells where each host's subscribers really are (a gateway that ignores REDIS_SUBSCRIBE_URL shows
 *    up on the primary).
 *  - host loss (bench/fleet/host-loss.ts) with each --hosts count of 2 or more.
 */
import type { BenchOptions } from '../options.js';
import { measuredLine, type RunInfo } from '../report.js';
import { tracked } from '../stack.js';
import { fmt } from '../../harness/stats.js';
import { startFleet, type FleetOptions } from '../../harness/fleet/fleet.js';
import { hostLoss, hostLossTable, type HostLossResult } from './host-loss.js';
import { measureWindow, subscriptions, type Subscriptions, type WindowSample } from '../../harness/fleet/measure.js';
import { removeAll } from '../../harness/fleet/netns.js';

export interface ScalingRow {
  hosts: number;
  viewers: number;
  goodputBytesPerSecond: number;
  framesPerSecondPerViewer: number;
  hostTxBytesPerSecond: number[];
  frameBytes: number;
  latencyP50: number;
  disconnected: number;
  /** goodput(K) / (K × goodput(1)). */
  scaling: number | null;
  loadAverage: number[];
}

export interface PrimaryRow {
  hosts: number;
  gatewaysPerHost: number;
  replicas: boolean;
  viewers: number;
  primaryOutBytesPerSecond: number;
  subscriptions: Subscriptions[];
  loadAverage: number[];
}

/** A fresh fleet for one measurement, always removed afterwards (also on Ctrl-C, through stopAll). */
async function withFleet<T>(o: FleetOptions, fn: (f: Awaited<ReturnType<typeof startFleet>>) => Promise<T>): Promise<T> {
  const fleet = await startFleet(o);
  const stop = tracked(fleet.stop);
  try {
    return await fn(fleet);
  } finally {
    await stop();
  }
}

const base = (o: BenchOptions): Omit<FleetOptions, 'gatewayHosts' | 'gatewaysPerHost' | 'replicas'> => ({
  linkMbit: o.linkMbit,
  width: o.width,
  height: o.height,
  fps: o.fps,
  quality: o.quality,
});

export async function scalingRows(o: BenchOptions, log: (l: string) => void): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  for (const hosts of o.fleetHosts) {
    const viewers = hosts * o.perHost;
    log(`scaling: ${hosts} gateway host(s), ${viewers} viewers …`);
    const s: WindowSample = await withFleet({ ...base(o), gatewayHosts: hosts, gatewaysPerHost: 1, replicas: false }, (f) =>
      measureWindow(f, viewers, o.warmup, o.seconds),
    );
    const one = rows.find((r) => r.hosts === 1);
    rows.push({
      hosts,
      viewers,
      goodputBytesPerSecond: s.goodputBytesPerSecond,
      framesPerSecondPerViewer: s.framesPerSecondPerViewer,
      hostTxBytesPerSecond: s.hostTxBytesPerSecond,
      frameBytes: s.load.frameBytes,
      latencyP50: s.load.latencyP50,
      disconnected: s.load.disconnected,
      scaling: one ? s.goodputBytesPerSecond / (hosts * one.goodputBytesPerSecond) : hosts === 1 ? 1 : null,
      loadAverage: s.loadAverage,
    });
  }
  return rows;
}

export async function primaryRows(o: BenchOptions, log: (l: string) => void): Promise<PrimaryRow[]> {
  const rows: PrimaryRow[] = [];
  const hosts = 2;
  for (const gatewaysPerHost of o.gateways) {
    for (const replicas of [false, true]) {
      // A few viewers per process, so that every process (SO_REUSEPORT spreads them) has subscribed.
      const viewers = hosts * gatewaysPerHost * 8;
      log(`primary out: ${hosts} hosts × ${gatewaysPerHost} gateways, ${replicas ? 'replica per host' : 'all on the primary'} …`);
      rows.push(
        await withFleet({ ...base(o), gatewayHosts: hosts, gatewaysPerHost, replicas }, async (f) => {
          const s = await measureWindow(f, viewers, o.warmup, Math.min(o.seconds, 6));
          return {
            hosts,
            gatewaysPerHost,
            replicas,
            viewers,
            primaryOutBytesPerSecond: s.primaryOutBytesPerSecond,
            subscriptions: subscriptions(f, replicas),
            loadAverage: s.loadAverage,
          };
        }),
      );
    }
  }
  return rows;
}

const kB = (b: number): string => fmt(b / 1000, 0);

/** What one subscriber and one replica cost the primary, from the rows' differences. */
function primaryNotes(rows: PrimaryRow[]): string[] {
  const direct = rows.filter((r) => !r.replicas);
  const perSubscriber = direct.map((r) => r.primaryOutBytesPerSecond / (r.hosts * r.gatewaysPerHost));
  // With replicas the frames leave the primary only on the replication links (the gateways' presence
  // subscriptions there carry no frames): what it sends per host is the row's total over its hosts.
  const perReplica = rows.filter((r) => r.replicas).map((r) => r.primaryOutBytesPerSecond / r.hosts);
  const onReplica = rows.some((r) => r.subscriptions.some((s) => s.onReplica > 0));
  if (!perSubscriber.length || !perReplica.length) return [];
  const sub = perSubscriber.reduce((a, b) => a + b, 0) / perSubscriber.length;
  const rep = perReplica.reduce((a, b) => a + b, 0) / perReplica.length;
  return [
    `From these rows: one subscribed gateway costs the primary about ${kB(sub)} kB/s, one replica's link about ${kB(rep)} kB/s (${fmt(rep / sub, 1)} subscribers' worth: the replication stream carries each frame's PUBLISH and its latest-frame write). ${
      onReplica
        ? 'Gateways subscribed on their host replica, so with replicas the primary sends one replication stream per host whatever the number of gateway processes on it.'
        : 'In this run no gateway subscribed on its replica (these gateways do not read REDIS_SUBSCRIBE_URL), so the replica rows are the direct rows plus the replication streams; with gateways on their replicas the primary would send one replication stream per host instead of one stream per gateway process: even at about ' +
          fmt(rep / sub, 0) +
          ' gateway processes per host, less beyond.'
    }`,
    '',
  ];
}

/** Viewers per host below the link's capacity even once one host's viewers have moved to the others. */
const LOSS_VIEWERS_PER_HOST = 15;
const STALL_MS = 2000;

export async function lossRows(o: BenchOptions, log: (l: string) => void): Promise<HostLossResult[]> {
  const rows: HostLossResult[] = [];
  for (const hosts of o.fleetHosts.filter((k) => k >= 2)) {
    log(`host loss: ${hosts} gateway hosts, the last one unplugged and killed …`);
    rows.push(
      await withFleet({ ...base(o), gatewayHosts: hosts, gatewaysPerHost: 1, replicas: false }, (f) => hostLoss(f, hosts * LOSS_VIEWERS_PER_HOST, STALL_MS)),
    );
  }
  return rows;
}

export function fleetReport(o: BenchOptions, run: RunInfo, scaling: ScalingRow[], primary: PrimaryRow[], loss: HostLossResult[] = []): string {
  const where = (r: PrimaryRow): string =>
    r.subscriptions.map((s) => `${s.host}: ${s.onPrimary} on primary, ${s.onReplica} on replica${s.replicaLinks ? ' (replica linked)' : ''}`).join('; ');
  const loads = [...scaling, ...primary].map((r) => r.loadAverage[0] ?? 0);
  return [
    measuredLine(run, `; load average (1 min) during the runs ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)}`),
    '',
    `\`${run.command}\` — capture test pattern ${o.width}x${o.height} at ${o.fps} fps, JPEG_QUALITY ${o.quality}, on the Redis primary's host. Every host is a network namespace on one bridge (bench/fleet/netns.ts); each gateway host's link is shaped to ${o.linkMbit} Mbit/s each way with tbf (burst 32kbit, latency 400ms); the primary's, nginx's and the client's links are not. Viewers: the C load client on its own host, through nginx (least_conn over the gateway hosts), ${o.warmup} s warm-up, ${o.seconds} s windows; a fresh fleet per row.`,
    '',
    `Scaling, one gateway process per host, ${o.perHost} viewers per host:`,
    '',
    '| gateway hosts | viewers | goodput (kB/s) | per host link tx (kB/s) | frames/s per viewer | frame (bytes) | latency p50 (ms) | disconnected | goodput(K) / (K × goodput(1)) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...scaling.map(
      (r) =>
        `| ${r.hosts} | ${r.viewers} | ${kB(r.goodputBytesPerSecond)} | ${r.hostTxBytesPerSecond.map(kB).join(', ')} | ${fmt(r.framesPerSecondPerViewer, 2)} | ${fmt(r.frameBytes, 0)} | ${fmt(r.latencyP50, 0)} | ${r.disconnected} | ${r.scaling === null ? '–' : fmt(r.scaling, 2)} |`,
    ),
    '',
    "The Redis primary's bytes out per second (INFO stats `total_net_output_bytes` over the window), 2 gateway hosts:",
    '',
    '| gateways per host | subscribe on | viewers | primary out (kB/s) | where the subscribers are (CLIENT LIST; with replicas, those on the primary are presence subscriptions that carry no frames) |',
    '|---|---|---|---|---|',
    ...primary.map(
      (r) => `| ${r.gatewaysPerHost} | ${r.replicas ? 'replica per host' : 'primary'} | ${r.viewers} | ${kB(r.primaryOutBytesPerSecond)} | ${where(r)} |`,
    ),
    '',
    "Latency here is capture to whole part at the client and includes the shaped links' queues (tbf holds up to 400 ms) and the socket buffers of viewers that get less than the full rate: it says how full the pipes are, not how fast camfan is.",
    '',
    ...primaryNotes(primary),
    ...(loss.length
      ? [
          `Losing a gateway host: ${LOSS_VIEWERS_PER_HOST} viewers per host (Node viewers, bench/fleet/loss-client.ts, that reconnect after ${STALL_MS} ms without data), 4 s in the last host's link goes down and its gateway is killed (SIGKILL); one row per fleet:`,
          '',
          hostLossTable(loss),
          '',
          `About 4 s for a moved viewer fits its own stall timeout (${STALL_MS} ms) plus nginx's proxy_connect_timeout (2 s) to the silent host before proxy_next_upstream tries another (not traced packet by packet); both are settings, not camfan's delivery.`,
          '',
        ]
      : []),
    "Not measured yet: rolling deploys. All hosts share this machine's 2 cores with the other work on it, so CPU is not what a row says about a host.",
  ].join('\n');
}

export async function runFleet(o: BenchOptions, run: RunInfo, publish: (body: string) => void, save: (result: object) => void): Promise<void> {
  // A crash between the namespaces' creation and their removal must not leave them behind.
  process.once('exit', () => removeAll());
  const log = (l: string): void => console.log(l);
  const scaling = await scalingRows(o, log);
  const primary = await primaryRows(o, log);
  const loss = await lossRows(o, log);
  save({ scaling, primary, loss });
  publish(fleetReport(o, run, scaling, primary, loss));
}
