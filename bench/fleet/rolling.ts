/**
 * A rolling deploy across the fleet under load, as scripts/rolling-deploy.sh does it on real hosts: host by
 * host, each gateway process replaced the way `pm2 reload` replaces it in fork mode (SIGTERM to the old
 * one, which tells its /ws pages to move and keeps delivering until they have, then a new process on the
 * same port once it has exited). Viewers follow the page's rules (bench/fleet/loss-client.ts); measured per viewer: the longest
 * gap between frames while the deploy ran, how often it moved, reconnected without being told, or was refused.
 */
import { sleep } from '../../harness/procs.js';
import { fmt, median, percentile } from '../../harness/stats.js';
import type { Fleet } from '../../harness/fleet/fleet.js';
import { maxGap, withViewers } from './viewers.js';

export interface RollingResult {
  hosts: number;
  gatewaysPerHost: number;
  viewers: number;
  /** From the first restart to the last old process gone (ms). */
  deployMs: number;
  /** Per viewer, its longest gap between frames during the deploy: p50, p99, max (ms). */
  gapP50: number;
  gapP99: number;
  gapMax: number;
  /** The same before the deploy began, for comparison. */
  gapBeforeMax: number;
  moves: number;
  /** Sockets lost without a move notice (closed or silent) during the deploy. */
  unplannedReconnects: number;
  refused: number;
}

/** Time for one old process to move its pages and end: MOVE_GRACE_MS plus its exit. */
const SECONDS_PER_RESTART = 4;

export async function rollingDeploy(f: Fleet, viewers: number, before = 3, after = 3): Promise<RollingResult> {
  const restarts = f.gatewayProcs.flat().length;
  let startedAt = 0;
  let deployAt = 0;
  let doneAt = 0;
  const { logs } = await withViewers(f, viewers, before + restarts * SECONDS_PER_RESTART + after, async () => {
    startedAt = Date.now();
    await sleep(before * 1000);
    deployAt = Date.now();
    for (let h = 0; h < f.gatewayProcs.length; h++) {
      for (let i = 0; i < f.gatewayProcs[h]!.length; i++) await f.restartGateway(h, i);
    }
    doneAt = Date.now();
  });
  const gaps = logs.map((l) => maxGap(l.frames, deployAt, doneAt + 500));
  const during = (times: number[]): number => times.filter((t) => t >= deployAt && t <= doneAt + 500).length;
  return {
    hosts: f.gateways.length,
    gatewaysPerHost: f.gatewayProcs[0]!.length,
    viewers,
    deployMs: doneAt - deployAt,
    gapP50: median(gaps),
    gapP99: percentile(gaps, 99),
    gapMax: Math.max(...gaps),
    gapBeforeMax: Math.max(0, ...logs.map((l) => maxGap(l.frames, startedAt + 500, deployAt))),
    moves: logs.reduce((n, l) => n + during(l.moves), 0),
    unplannedReconnects: logs.reduce((n, l) => n + during(l.reconnects), 0),
    refused: logs.reduce((n, l) => n + Object.values(l.refused).reduce((a, b) => a + b, 0), 0),
  };
}

export function rollingTable(rows: RollingResult[]): string {
  return [
    '| gateway hosts × processes | viewers | deploy took (s) | per viewer, longest gap during it: p50 / p99 / max (ms) | longest gap before it (ms) | moves | reconnects without a move | refused |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.hosts} × ${r.gatewaysPerHost} | ${r.viewers} | ${fmt(r.deployMs / 1000, 1)} | ${fmt(r.gapP50, 0)} / ${fmt(r.gapP99, 0)} / ${fmt(r.gapMax, 0)} | ${fmt(r.gapBeforeMax, 0)} | ${r.moves} | ${r.unplannedReconnects} | ${r.refused} |`,
    ),
  ].join('\n');
}
