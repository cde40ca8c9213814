/** Markdown for BENCHMARKS.md and the console: the tables of each mode, and rewriting one section. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../harness/procs.js';
import type { EncodeResult } from './encode.js';
import type { FanoutResult } from './fanout.js';
import type { OverloadRow } from './overload.js';
import { slope, type SoakResult } from '../harness/soak.js';
import { fmt, median } from '../harness/stats.js';

export const BASELINE = 'C baseline';

export interface RunInfo {
  date: string;
  machine: string;
  command: string;
}

export function measuredLine(run: RunInfo, extra = ''): string {
  return `Measured ${run.date.slice(0, 16).replace('T', ' ')} UTC on ${run.machine}${extra}.`;
}

export function encodeTable(rows: EncodeResult[]): string {
  return [
    '| picture | size | quality | encode median (ms) | encode p90 (ms) | JPEG size (KB) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.picture} | ${r.size} | ${r.quality} | ${fmt(r.medianMs, 2)} | ${fmt(r.p90Ms, 2)} | ${fmt(r.bytes / 1024, 0)} |`),
  ].join('\n');
}

/** Each camfan row's CPU per delivered GB over the C baseline's at the same viewer count. */
export function ratiosToBaseline(rows: FanoutResult[]): Map<FanoutResult, number> {
  const out = new Map<FanoutResult, number>();
  for (const r of rows) {
    const b = rows.find((x) => x.target === BASELINE && x.clients === r.clients && x.pass === r.pass);
    if (b && r !== b) out.set(r, r.cpuPerGB / b.cpuPerGB);
  }
  return out;
}

/** With --repeat: per server and viewer count, the median ratio over the passes and each pass's. */
export function ratioSummary(rows: FanoutResult[]): string {
  const ratios = ratiosToBaseline(rows);
  if (!rows.some((r) => r.pass > 0) || ratios.size === 0) return '';
  const groups = new Map<string, number[]>();
  for (const [r, x] of ratios) {
    const key = `${r.target} at ${r.clients} viewers`;
    groups.set(key, [...(groups.get(key) ?? []), x]);
  }
  const lines = [...groups].map(
    ([key, xs]) => `- ${key}: median ${fmt(median(xs), 2)}× the C baseline's CPU per GB (passes: ${xs.map((x) => fmt(x, 2)).join(', ')})`,
  );
  return ['CPU per delivered GB against the C baseline, same pass:', '', ...lines].join('\n');
}

const ms = (x: number): string => (x === Infinity ? 'timeout' : fmt(x));
const ratioNote = (ratios: Map<FanoutResult, number>, r: FanoutResult): string => (ratios.has(r) ? ` (${fmt(ratios.get(r)!, 2)}×)` : '');

export function fanoutTable(rows: FanoutResult[]): string {
  const slow = rows.some((r) => r.slowClients > 0);
  const ratios = ratiosToBaseline(rows);
  return [
    `| server | viewers${slow ? ' (slow)' : ''} | fps min / p50 | latency p50 / p99 / max (ms) |${slow ? ' slow viewers: fps p50, latency p50 (ms) |' : ''} first frame p50 / p99 (ms) | invalid parts | dropped | CPU s per 1,000 frames | CPU s per GB (× C baseline) | CPU cores | RSS MB (growth in window) | RSS per viewer (KB) | Redis egress (MB/s) | load client cores |`,
    `|---|---|---|---|${slow ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|`,
    ...rows.map((r) => {
      const cells = [
        r.target,
        `${r.clients}${slow ? ` (${r.slowClients})` : ''}`,
        `${fmt(r.fpsMin)} / ${fmt(r.fpsP50)}`,
        `${fmt(r.latencyP50)} / ${fmt(r.latencyP99)} / ${fmt(r.latencyMax)}`,
        ...(slow ? [r.slowFpsP50 === null ? '–' : `${fmt(r.slowFpsP50)}, ${fmt(r.slowLatencyP50!, 0)}`] : []),
        `${ms(r.ttffP50)} / ${ms(r.ttffP99)}`,
        `${r.invalidParts}`,
        `${r.disconnected}`,
        fmt(r.cpuPer1000Frames, 3),
        `${fmt(r.cpuPerGB, 2)}${ratioNote(ratios, r)}`,
        fmt(r.cpuCores, 2),
        `${fmt(r.rssMB)} (${r.rssGrowthMB >= 0 ? '+' : ''}${fmt(r.rssGrowthMB)})`,
        fmt(r.rssPerClientKB),
        fmt(r.redisEgressMBps, 2),
        fmt(r.loadClientCpuCores, 2),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ].join('\n');
}

export function overloadTable(rows: OverloadRow[]): string {
  const ratios = ratiosToBaseline(rows);
  return [
    '| server | viewers | fps min / p50 | latency p50 / p99 (ms) | first frame p99 (ms) | /healthz p99 (ms), failed | subscriber omem peak (MB) | CPU cores | CPU s per GB (× C baseline) | invalid parts | dropped | load client cores | machine busy cores (softirq) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const cut = r.outputBuffer.fewestConnections < r.processes ? ' (a subscriber was cut)' : '';
      const cells = [
        r.target,
        String(r.clients),
        `${fmt(r.fpsMin)} / ${fmt(r.fpsP50)}`,
        `${fmt(r.latencyP50)} / ${fmt(r.latencyP99)}`,
        `${ms(r.ttffP99)}${r.ttffTimeouts ? ` (${r.ttffTimeouts} probe${r.ttffTimeouts > 1 ? 's' : ''} got no frame)` : ''}`,
        `${ms(r.healthz.p99)}, ${r.healthz.failures} of ${r.healthz.probes}`,
        `${fmt(r.outputBuffer.peakBytes / 2 ** 20, 2)}${cut}`,
        fmt(r.cpuCores, 2),
        `${fmt(r.cpuPerGB, 2)}${ratioNote(ratios, r)}`,
        String(r.invalidParts),
        String(r.disconnected),
        fmt(r.loadClientCpuCores, 2),
        `${fmt(r.machineBusyCores, 2)} (${fmt(r.machineSoftirqCores, 2)})`,
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ].join('\n');
}

export function soakReport(r: SoakResult, run: RunInfo, c: { clients: number; churn: number; w: number; h: number; fps: number; quality: number }): string {
  const first = r.samples[0]!;
  const last = r.samples[r.samples.length - 1]!;
  const minutes = last.atSeconds / 60;
  const later = r.samples.slice(Math.floor(r.samples.length / 2));
  const secondHalfSlope = slope(
    later.map((x) => x.atSeconds / 60),
    later.map((x) => x.rssMB),
  );
  return [
    measuredLine(run),
    '',
    `\`${run.command}\` — capture: test pattern ${c.w}x${c.h} at ${c.fps} fps, quality ${c.quality}; ${c.clients} viewers over loopback for ${fmt(minutes, 0)} min, ${c.churn} of them replaced every second (${r.connects} connections in all).`,
    '',
    `- RSS (gateway): ${fmt(first.rssMB)} MB at ${first.atSeconds} s, ${fmt(last.rssMB)} MB at ${last.atSeconds} s; fitted slope ${fmt(r.rssSlopeMBPerMin, 2)} MB/min over the run, ${fmt(secondHalfSlope, 2)} MB/min over its second half.`,
    `- File descriptors: ${r.fdsBefore} before the viewers, ${first.fds} at ${first.atSeconds} s, ${last.fds} at ${last.atSeconds} s, ${r.fdsAfter} after they left.`,
    `- Latency p99: ${fmt(first.latencyP99)} ms in the first interval, ${fmt(last.latencyP99)} ms in the last; median of intervals ${fmt(median(r.samples.map((x) => x.latencyP99)))} ms.`,
    `- Invalid parts: ${r.invalidParts}; viewers closed by the server: ${r.droppedByServer}.`,
    '',
    '| at (s) | viewers | fps p50 | latency p50 / p99 (ms) | RSS (MB) | fds |',
    '|---|---|---|---|---|---|',
    ...r.samples.map(
      (x) => `| ${x.atSeconds} | ${x.connected} | ${fmt(x.fpsP50)} | ${fmt(x.latencyP50)} / ${fmt(x.latencyP99)} | ${fmt(x.rssMB)} | ${x.fds} |`,
    ),
  ].join('\n');
}

/** Replaces the text between <!-- bench:NAME:start --> and :end (appends the section when absent). */
export function writeSection(name: string, body: string): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let md = readFileSync(file, 'utf8');
  const i = md.indexOf(start);
  const j = md.indexOf(end);
  md = i >= 0 && j > i ? `${md.slice(0, i + start.length)}\n${body}\n${md.slice(j)}` : `${md.trimEnd()}\n\n${start}\n${body}\n${end}\n`;
  writeFileSync(file, md);
}
