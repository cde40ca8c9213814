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
 *  - host loss (bench/fleet/host-loss.ts) with each --hosts count of 2 or more;
 *  - a rolling deploy over 2 hosts × 2 gateway processes (bench/fleet/rolling.ts).
 * --fleet-parts picks some of scaling,primary,loss,rolling (all by default).
 */
import type { BenchOptions } from '../options.js';
import type { RunInfo } from '../report.js';
import { tracked } from '../stack.js';
import { startFleet, type FleetOptions } from '../../harness/fleet/fleet.js';
import { hostLoss, type HostLossResult } from './host-loss.js';
import { fleetReport, LOSS_VIEWERS_PER_HOST, ROLLING_VIEWERS_PER_HOST, type FleetResults, type PrimaryRow, type ScalingRow } from './report.js';
import { rollingDeploy, type RollingResult } from './rolling.js';
import { measureWindow, subscriptions, type WindowSample } from '../../harness/fleet/measure.js';
import { removeAll } from '../../harness/fleet/netns.js';

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

export async function lossRows(o: BenchOptions, log: (l: string) => void): Promise<HostLossResult[]> {
  const rows: HostLossResult[] = [];
  for (const hosts of o.fleetHosts.filter((k) => k >= 2)) {
    log(`host loss: ${hosts} gateway hosts, the last one unplugged and killed …`);
    rows.push(await withFleet({ ...base(o), gatewayHosts: hosts, gatewaysPerHost: 1, replicas: false }, (f) => hostLoss(f, hosts * LOSS_VIEWERS_PER_HOST)));
  }
  return rows;
}

export async function rollingRows(o: BenchOptions, log: (l: string) => void): Promise<RollingResult[]> {
  const hosts = 2;
  const gatewaysPerHost = 2;
  log(`rolling deploy: ${hosts} gateway hosts × ${gatewaysPerHost} processes …`);
  const row = await withFleet({ ...base(o), gatewayHosts: hosts, gatewaysPerHost, replicas: true }, (f) => rollingDeploy(f, hosts * ROLLING_VIEWERS_PER_HOST));
  return [row];
}

export async function runFleet(o: BenchOptions, run: RunInfo, publish: (body: string) => void, save: (result: object) => void): Promise<void> {
  // A crash between the namespaces' creation and their removal must not leave them behind.
  process.once('exit', () => removeAll());
  const log = (l: string): void => console.log(l);
  const want = (part: string): boolean => o.fleetParts.includes(part);
  const results: FleetResults = {
    scaling: want('scaling') ? await scalingRows(o, log) : [],
    primary: want('primary') ? await primaryRows(o, log) : [],
    loss: want('loss') ? await lossRows(o, log) : [],
    rolling: want('rolling') ? await rollingRows(o, log) : [],
  };
  save(results);
  publish(fleetReport(o, run, results));
}
