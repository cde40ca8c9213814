/**
 * The fleet bench's viewers: bench/fleet/loss-client.ts run on the client host, and what the bench reads
 * from the logs it returns (gaps between frames, first frame after an event).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DIST } from '../../harness/procs.js';
import type { Fleet } from '../../harness/fleet/fleet.js';
import type { ViewerLog } from '../../harness/fleet/page-viewer.js';

export type { ViewerLog };

/**
 * Starts `viewers` page-like viewers through the balancer for `seconds` once all have a frame; runs
 * `during()` meanwhile (once they all have one) and resolves with its result and the viewers' logs.
 */
export async function withViewers<T>(f: Fleet, viewers: number, seconds: number, during: () => Promise<T>): Promise<{ result: T; logs: ViewerLog[] }> {
  const args = [path.join(DIST, 'bench', 'fleet', 'loss-client.js'), f.entry.host, String(f.entry.port), String(viewers), String(seconds)];
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
  const result = await during();
  const code = await exited;
  if (code !== 0) throw new Error(`viewer client failed (${code}): ${err}`);
  return { result, logs: (JSON.parse(out) as { viewers: ViewerLog[] }).viewers };
}

/** The longest time between frames in [from, to] (ms), the edges counting as frames. */
export function maxGap(times: number[], from: number, to: number): number {
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
