/**
 * Losing a gateway host under load: viewers (bench/fleet/loss-client.ts, reconnecting after a stall)
 * through nginx on K hosts; a few seconds in, the last host's link goes down and its gateway processes
 * are killed (SIGKILL, so nothing is said goodbye). Viewers whose stream stopped are the moved ones:
 * how long until each got a frame again through the balancer; the others: their longest gap between
 * frames after the loss (a host going away should not disturb the hosts that stay).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DIST, sleep } from '../../harness/procs.js';
import { fmt, median } from '../../harness/stats.js';
import type { Fleet } from '../../harness/fleet/fleet.js';

export interface HostLossResult {
  hosts: number;
  viewers: number;
  stallMs: number;
  moved: number;
  /** Loss to the moved viewer's first frame again, ms (p50, max); null when a moved viewer never got one. */
  movedFirstFrameP50: number | null;
  movedFirstFrameMax: number | null;
  movedWithoutFrame: number;
  /** Longest gap between frames after the loss, among viewers that stayed (p50, max), ms. */
  stayedGapP50: number;
  stayedGapMax: number;
  /** The same before the loss, for comparison. */
  gapBeforeMax: number;
}

interface ViewerLog {
  frames: number[];
  reconnects: number[];
}

function maxGap(times: number[], from: number, to: number): number {
  let prev = from;
  let gap = 0;
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return Math.max(gap, to - prev);
}

export async function hostLoss(f: Fleet, viewers: number, stallMs: number, before = 4, after = 12): Promise<HostLossResult> {
  const args = [
    path.join(DIST, 'bench', 'fleet', 'loss-client.js'),
    f.entry.host,
    String(f.entry.port),
    String(viewers),
    String(before + after),
    String(stallMs),
  ];
  const child = spawn('ip', ['netns', 'exec', f.client.ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const ready = new Promise<void>((resolve) =>
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('ready')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await Promise.race([ready, exited]);
  const start = Date.now();
  await sleep(before * 1000);
  const lost = f.gateways[f.gateways.length - 1]!;
  const lossAt = Date.now();
  lost.unplug();
  for (const p of f.gatewayProcs[f.gatewayProcs.length - 1]!) p.child.kill('SIGKILL');
  const code = await exited;
  if (code !== 0) throw new Error(`loss client failed (${code}): ${err}`);
  const end = lossAt + after * 1000;
  const logs = (JSON.parse(out) as { viewers: ViewerLog[] }).viewers;
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
  return {
    hosts: f.gateways.length,
    viewers,
    stallMs,
    moved: moved.length,
    movedFirstFrameP50: got.length ? median(got) : null,
    movedFirstFrameMax: got.length ? Math.max(...got) : null,
    movedWithoutFrame: firstAgain.length - got.length,
    stayedGapP50: gaps.length ? median(gaps) : 0,
    stayedGapMax: gaps.length ? Math.max(...gaps) : 0,
    gapBeforeMax: Math.max(0, ...logs.map((l) => maxGap(l.frames, start + 500, lossAt))),
  };
}

export function hostLossTable(rows: HostLossResult[]): string {
  const ms = (x: number | null): string => (x === null ? '–' : fmt(x, 0));
  return [
    '| gateway hosts | viewers | moved | moved: loss to first frame again p50 / max (ms) | moved, no frame again | stayed: longest gap after the loss p50 / max (ms) | longest gap before the loss (ms) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.hosts} | ${r.viewers} | ${r.moved} | ${ms(r.movedFirstFrameP50)} / ${ms(r.movedFirstFrameMax)} | ${r.movedWithoutFrame} | ${ms(r.stayedGapP50)} / ${ms(r.stayedGapMax)} | ${ms(r.gapBeforeMax)} |`,
    ),
  ].join('\n');
}
