/**
 * npm run bench -- --ws-slow: one /ws viewer on a slow link (it reads its socket at --slow-rate bytes/s,
 * default kernel buffers) of the capture's camera, subscribed three ways in turn: plain, with
 * acknowledgements, and with acknowledgements and adaptation. How old are the frames it sees?
 */
import { measureSlowWsViewer, type SlowViewerResult } from '../harness/ws-client.js';
import type { BenchOptions } from './options.js';
import { fmt } from '../harness/stats.js';

export interface WsSlowRow extends SlowViewerResult {
  subscription: string;
}

const WAYS: Array<[string, Record<string, unknown>]> = [
  ['plain `{"subscribe":"cam0"}`', {}],
  ['`"ack":true`', { ack: true }],
  ['`"ack":true,"adapt":true`', { ack: true, adapt: true }],
];

export async function wsSlow(base: string, o: BenchOptions, progress: (line: string) => void): Promise<WsSlowRow[]> {
  const rows: WsSlowRow[] = [];
  for (const [subscription, extra] of WAYS) {
    progress(`  /ws viewer at ${o.slowRate} B/s, ${subscription} …`);
    const r = await measureSlowWsViewer(base, { subscribe: 'cam0', ...extra }, o.slowRate, o.warmup * 1000, o.seconds * 1000);
    rows.push({ subscription, ...r });
  }
  return rows;
}

export function wsSlowTable(rows: WsSlowRow[]): string {
  return [
    '| subscription | frame age p50 / p90 (ms) | fps | received (kB/s) | picture widths seen |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.subscription} | ${fmt(r.ageP50, 0)} / ${fmt(r.ageP90, 0)} | ${fmt(r.fps)} | ${fmt(r.bytesPerSecond / 1000, 0)} | ${r.widths.join(', ')} |`,
    ),
  ].join('\n');
}
