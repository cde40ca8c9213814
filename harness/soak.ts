/**
 * A soak: N viewers for a long, bounded time while some leave and new ones arrive every second (churn),
 * sampled at a fixed interval. Flat RSS, file descriptors and latency over the run are the point; a
 * leak shows up as a slope. Used by `npm run bench -- --soak SECONDS` and, shorter, by the test suite.
 */
import { readdirSync } from 'node:fs';
import { LoadViewer } from './load-client.js';
import { median, percentile, rssBytes } from './stats.js';

export interface SoakTarget {
  port: number;
  path: string;
  pids: number[];
}

export interface SoakOptions {
  clients: number;
  seconds: number;
  /** Viewers replaced per second (one leaves, a new one arrives). */
  churnPerSecond: number;
  sampleEverySeconds: number;
  progress?: (line: string) => void;
}

export interface SoakSample {
  atSeconds: number;
  rssMB: number;
  fds: number;
  connected: number;
  fpsP50: number;
  latencyP50: number;
  latencyP99: number;
}

export interface SoakResult {
  samples: SoakSample[];
  connects: number;
  invalidParts: number;
  /** Viewers the server closed on its own (should be 0: nobody here is slow). */
  droppedByServer: number;
  /** Least-squares slope of RSS over the run after the first sample, MB per minute. */
  rssSlopeMBPerMin: number;
  fdsBefore: number;
  fdsAfter: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

interface Tracked {
  viewer: LoadViewer;
  frames: number;
  closedByUs: boolean;
}

export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export async function soak(target: SoakTarget, o: SoakOptions): Promise<SoakResult> {
  const fdsBefore = target.pids.reduce((s, pid) => s + fdCount(pid), 0);
  let latencies: number[] = [];
  let connects = 0;
  let invalid = 0;
  let droppedByServer = 0;
  const live = new Set<Tracked>();
  const open = (): void => {
    connects++;
    const t: Tracked = { frames: 0, closedByUs: false, viewer: null as unknown as LoadViewer };
    t.viewer = new LoadViewer({
      port: target.port,
      path: target.path,
      onPart: (latency) => {
        t.frames++;
        latencies.push(latency);
      },
    });
    t.viewer.socket.on('close', () => {
      invalid += t.viewer.invalid;
      if (!t.closedByUs) droppedByServer++;
      live.delete(t);
    });
    live.add(t);
  };
  const leave = (t: Tracked): void => {
    t.closedByUs = true;
    t.viewer.close();
  };

  for (let i = 0; i < o.clients; i++) {
    open();
    if (i % 50 === 49) await sleep(5);
  }
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  let sampleStart = t0;
  for (let s = 1; s <= o.seconds; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    // Churn: the oldest viewers leave, as many new ones arrive (keeps the count at `clients`).
    const oldest = [...live].slice(0, o.churnPerSecond);
    for (const t of oldest) leave(t);
    for (let i = live.size; i < o.clients; i++) open();
    if (s % o.sampleEverySeconds !== 0) continue;
    const elapsed = (performance.now() - sampleStart) / 1000;
    const fps = [...live].map((t) => t.frames / elapsed);
    samples.push({
      atSeconds: s,
      rssMB: target.pids.reduce((a, pid) => a + rssBytes(pid), 0) / 2 ** 20,
      fds: target.pids.reduce((a, pid) => a + fdCount(pid), 0),
      connected: live.size,
      fpsP50: median(fps),
      latencyP50: median(latencies),
      latencyP99: percentile(latencies, 99),
    });
    for (const t of live) t.frames = 0;
    latencies = [];
    sampleStart = performance.now();
    const last = samples[samples.length - 1]!;
    o.progress?.(
      `  soak ${s}/${o.seconds} s: RSS ${last.rssMB.toFixed(1)} MB, fds ${last.fds}, latency p99 ${last.latencyP99.toFixed(1)} ms, ${connects} connects`,
    );
  }
  for (const t of [...live]) leave(t);
  await sleep(1500);
  for (const t of live) invalid += t.viewer.invalid;
  const fit = samples.slice(1);
  return {
    samples,
    connects,
    invalidParts: invalid,
    droppedByServer,
    rssSlopeMBPerMin: slope(
      fit.map((x) => x.atSeconds / 60),
      fit.map((x) => x.rssMB),
    ),
    fdsBefore,
    fdsAfter: target.pids.reduce((s, pid) => s + fdCount(pid), 0),
  };
}
