/** Text plots for the Fleet section: bars that read in a diff and in any Markdown viewer. */
import { fmt } from '../../harness/stats.js';
import type { HostLossResult } from './host-loss.js';
import type { PrimaryRow, ScalingRow } from './rows.js';

const WIDTH = 48;

/** One bar per row, scaled to the largest value; the value written after it. */
export function bars(title: string, rows: Array<[label: string, value: number]>, unit: string): string[] {
  const max = Math.max(...rows.map(([, v]) => v), 1);
  const pad = Math.max(...rows.map(([l]) => l.length));
  return [
    '```',
    title,
    ...rows.map(([label, v]) => `${label.padEnd(pad)} │${'█'.repeat(v > 0 ? Math.max(1, Math.round((v / max) * WIDTH)) : 0)} ${fmt(v, 0)}${unit}`),
    '```',
  ];
}

export function scalingPlot(rows: ScalingRow[]): string[] {
  if (rows.length < 2) return [];
  return bars(
    'goodput through nginx (kB/s) against gateway hosts',
    rows.map((r) => [`${r.hosts} host${r.hosts > 1 ? 's' : ''}`, r.goodputBytesPerSecond / 1000]),
    ' kB/s',
  );
}

export function primaryPlot(rows: PrimaryRow[]): string[] {
  if (rows.length < 2) return [];
  return bars(
    "the primary's bytes out (kB/s) against gateway processes per host, 2 hosts",
    rows.map((r) => [`${r.gatewaysPerHost} per host, ${r.replicas ? 'replica' : 'direct '}`, r.primaryOutBytesPerSecond / 1000]),
    ' kB/s',
  );
}

/** The moved viewers' new sockets over time after the loss, summed over the rows' fleets. */
export function reconnectPlot(rows: HostLossResult[], binMs: number): string[] {
  if (rows.length === 0) return [];
  const bins = rows[0]!.reconnectsPerBin.map((_, i) => rows.reduce((n, r) => n + (r.reconnectsPerBin[i] ?? 0), 0));
  const last = bins.reduce((at, n, i) => (n > 0 ? i : at), 0);
  return bars(
    `new sockets of moved viewers per ${binMs} ms after the loss (all rows)`,
    bins.slice(0, last + 2).map((n, i) => [`${fmt((i * binMs) / 1000, 2)}–${fmt(((i + 1) * binMs) / 1000, 2)} s`, n]),
    '',
  );
}
