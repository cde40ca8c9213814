/** The Fleet section of BENCHMARKS.md, from the rows bench/fleet/run.ts measured. */
import type { BenchOptions } from '../options.js';
import { measuredLine, type RunInfo } from '../report.js';
import { fmt } from '../../harness/stats.js';
import { BIN_MS, hostLossTable, type HostLossResult } from './host-loss.js';
import { primaryPlot, reconnectPlot, scalingPlot } from './plots.js';
import { rollingTable, type RollingResult } from './rolling.js';
import type { PrimaryRow, ScalingRow } from './rows.js';

export type { PrimaryRow, ScalingRow };

export interface FleetResults {
  scaling: ScalingRow[];
  primary: PrimaryRow[];
  loss: HostLossResult[];
  rolling: RollingResult[];
}

/** Viewers per host below the link's capacity even once one host's viewers have moved to the others. */
export const LOSS_VIEWERS_PER_HOST = 15;
export const ROLLING_VIEWERS_PER_HOST = 20;

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
    `From these rows: one subscribed gateway costs the primary about ${kB(sub)} kB/s, one replica's link about ${kB(rep)} kB/s (${fmt(rep / sub, 1)} subscribers' worth: the replication stream carries each frame's PUBLISH and, at most once a second (LATEST_EVERY_MS), a latest-frame write). ${
      onReplica
        ? 'Gateways subscribed on their host replica, so with replicas the primary sends one replication stream per host whatever the number of gateway processes on it.'
        : 'In this run no gateway subscribed on its replica (these gateways do not read REDIS_SUBSCRIBE_URL), so the replica rows are the direct rows plus the replication streams; with gateways on their replicas the primary would send one replication stream per host instead of one stream per gateway process: even at about ' +
          fmt(rep / sub, 0) +
          ' gateway processes per host, less beyond.'
    }`,
    '',
  ];
}

export function fleetReport(o: BenchOptions, run: RunInfo, r: FleetResults): string {
  const { scaling, primary, loss, rolling } = r;
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
    ...scalingPlot(scaling),
    '',
    "The Redis primary's bytes out per second (INFO stats `total_net_output_bytes` over the window), 2 gateway hosts:",
    '',
    '| gateways per host | subscribe on | viewers | primary out (kB/s) | where the subscribers are (CLIENT LIST; with replicas, those on the primary are presence subscriptions that carry no frames) |',
    '|---|---|---|---|---|',
    ...primary.map(
      (r) => `| ${r.gatewaysPerHost} | ${r.replicas ? 'replica per host' : 'primary'} | ${r.viewers} | ${kB(r.primaryOutBytesPerSecond)} | ${where(r)} |`,
    ),
    '',
    ...primaryPlot(primary),
    '',
    "Latency here is capture to whole part at the client and includes the shaped links' queues (tbf holds up to 400 ms) and the socket buffers of viewers that get less than the full rate: it says how full the pipes are, not how fast camfan is.",
    '',
    ...primaryNotes(primary),
    ...(loss.length
      ? [
          `Losing a gateway host: ${LOSS_VIEWERS_PER_HOST} viewers per host that follow the page's /ws rules (harness/fleet/page-viewer.ts: beats, a socket silent past 1 s dropped, reconnect after 250–750 ms, move before close), through nginx (proxy_connect_timeout 1s, max_fails=3); 4 s in, the last host's link goes down and its gateway is killed (SIGKILL): nothing reaches its viewers, not even a close. One row per fleet:`,
          '',
          hostLossTable(loss),
          '',
          ...reconnectPlot(loss, BIN_MS),
          '',
          "A moved viewer's time back is the page's silence limit (1 s, checked every 200 ms) plus its jittered reconnect delay plus, for the viewers that nginx first sends to the dead host (least_conn sees it empty once its viewers have left), the 1 s connect timeout before proxy_next_upstream tries a live one.",
          '',
        ]
      : []),
    ...(rolling.length
      ? [
          `Rolling deploy (bench/fleet/rolling.ts, what scripts/rolling-deploy.sh does with \`pm2 reload\` on real hosts): host by host, each gateway process stopped as pm2 reload stops it in fork mode (SIGTERM: it sends its /ws pages \`{"move"}\` and keeps delivering until they have moved, up to 1.5 s, then exits) and a new one started on the same port once it has gone; the host's other process and the other host take the moved pages; ${ROLLING_VIEWERS_PER_HOST} viewers per host following the page's rules:`,
          '',
          rollingTable(rolling),
          '',
        ]
      : []),
    "All hosts share this machine's 2 cores with the other work on it, so CPU is not what a row says about a host.",
  ].join('\n');
}
