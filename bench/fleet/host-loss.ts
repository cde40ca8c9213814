/**
 * Losing a gateway host under load: viewers that follow the page's /ws rules (bench/fleet/loss-client.ts)
 * through nginx on K hosts; a few seconds in, the last host's link goes down and its gateway processes
 * are killed (SIGKILL, so nothing is said goodbye). Viewers whose stream stopped are the moved ones:
 * how long until each got a frame again through the balancer; the others: their longest gap between
 * frames after the loss (a host going away should not disturb the hosts that stay).
 */
import { sleep } from '../../harness/procs.js';
import { fmt, median } from '../../harness/stats.js';
import type { Fleet } from '../../harness/fleet/fleet.js';
import { maxGap, withViewers } from './viewers.js';

export interface HostLossResult {
  hosts: number;
  viewers: number;
  moved: number;
  /** Loss to the moved viewer's first frame again, ms (p50, max); null when a moved viewer never got one. */
  movedFirstFrameP50: number | null;
  movedFirstFrameMax: number | null;
  movedWithoutFrame: number;
  /** New sockets opened by moved viewers per 250 ms bin after the loss: how spread the reconnects are. */
  reconnectsPerBin: number[];
  /** Longest gap between frames after the loss, among viewers that stayed (p50, max), ms. */
  stayedGapP50: number;
  stayedGapMax: number;
  /** The same before the loss, for comparison. */
  gapBeforeMax: number;
}

export const BIN_MS = 250;

export async function hostLoss(f: Fleet, viewers: number, before = 4, after = 12): Promise<HostLossResult> {
  let start = 0;
  let lossAt = 0;
  const { logs } = await withViewers(f, viewers, before + after, async () => {
    start = Date.now();
    await sleep(before * 1000);
    const lost = f.gateways[f.gateways.length - 1]!;
    lossAt = Date.now();
    lost.unplug();
    for (const p of f.gatewayProcs[f.gatewayProcs.length - 1]!) p.child.kill('SIGKILL');
  });
  const end = lossAt + after * 1000;
  // Moved: the stream stopped after the loss and the viewer had to reconnect.
  const moved = logs.filter((l) => l.reconnects.some((t) => t > lossAt));
  const stayed = logs.filter((l) => !moved.includes(l));
  const firstAgain = moved.map((l) => {
    const reconnect = l.reconnects.find((t) => t > lossAt)!;
    const t = l.frames.find((x) => x > reconnect);
    return t === undefined ? null : t - lossAt;
  });
  const got = firstAgain.filter((x): x is number => x !== null);
  const gaps = stayed.map((l) => maxGap(l.frames, lossAt, end - 500));
  const reconnectsPerBin = Array.from({ length: 16 }, (_, i) =>
    moved.reduce((n, l) => n + l.opens.filter((t) => t > lossAt + i * BIN_MS && t <= lossAt + (i + 1) * BIN_MS).length, 0),
  );
  return {
    hosts: f.gateways.length,
    viewers,
    moved: moved.length,
    movedFirstFrameP50: got.length ? median(got) : null,
    movedFirstFrameMax: got.length ? Math.max(...got) : null,
    movedWithoutFrame: firstAgain.length - got.length,
    reconnectsPerBin,
    stayedGapP50: gaps.length ? median(gaps) : 0,
    stayedGapMax: gaps.length ? Math.max(...gaps) : 0,
    gapBeforeMax: Math.max(0, ...logs.map((l) => maxGap(l.frames, start + 500, lossAt))),
  };
}

/** "0 0 0 0 4 6 5": reconnects per bin up to the last non-empty one. */
export function spread(bins: number[]): string {
  const last = bins.reduce((at, n, i) => (n > 0 ? i : at), -1);
  return last < 0 ? '–' : bins.slice(0, last + 1).join(' ');
}

export function hostLossTable(rows: HostLossResult[]): string {
  const ms = (x: number | null): string => (x === null ? '–' : fmt(x, 0));
  return [
    '| gateway hosts | viewers | moved | moved: loss to first frame again p50 / max (ms) | moved, no frame again | new sockets per 250 ms after the loss | stayed: longest gap after the loss p50 / max (ms) | longest gap before the loss (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.hosts} | ${r.viewers} | ${r.moved} | ${ms(r.movedFirstFrameP50)} / ${ms(r.movedFirstFrameMax)} | ${r.movedWithoutFrame} | ${spread(r.reconnectsPerBin)} | ${ms(r.stayedGapP50)} / ${ms(r.stayedGapMax)} | ${ms(r.gapBeforeMax)} |`,
    ),
  ].join('\n');
}
