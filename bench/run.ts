/**
 * npm run bench [-- options]            (npm run bench -- --help lists every option with its default)
 *
 * Starts its own redis-server and capture on free ports, then measures the servers one at a time: camfan's
 * gateway (--gateways N processes on one port) and, with --baseline, the C epoll+writev baseline server
 * (bench/c/baseline-server.c: same Redis channel, same part bytes), so every ratio is against the kernel.
 * Viewers are opened by the C load client (bench/c/load-client.c, epoll + recv(MSG_TRUNC): about 8 µs of
 * CPU per 90 KB part, kernel included, e.g. 0.2 core for 3,000 viewers at 12 fps); --node-client uses the
 * Node one instead, to cross-check. Both C programs are built with gcc on first use into dist/bench/c
 * (missing gcc: `sudo apt-get install -y gcc`).
 *
 * Modes:
 *   (default)      fan-out sweep: --clients 1,50,200,500 --seconds 10 --warmup 3, capture test pattern
 *                  --width 1280 --height 720 --fps 30 --quality 80, --slow 0.2 --slow-rate 300000 for slow viewers;
 *                  --repeat 3 runs it three times interleaved (e.g. `--clients 200 --baseline --repeat 5`
 *                  for camfan's CPU per GB against the baseline's, with the median ratio)
 *   --overload     --clients 200,800,1600,3000 of a 720p testsrc2 clip at --quality 95 (~90 KB frames),
 *                  camfan with --gateways 1,2 and the C baseline; adds /healthz p99 under load (probed every
 *                  100 ms, failures counted), the subscriber's Redis output-buffer peak (CLIENT LIST omem)
 *   --fleet        gateway hosts on network namespaces behind nginx, their links shaped (root; bench/fleet/run.ts)
 *   --soak 600 --churn 2 --sample 30   a soak with the first --clients count (Node client), churn per second
 *
 * Output: the tables on stdout, and bench/results/last/<section>.json and .svg (not in git; section: main,
 * overload, soak-churn, or --section NAME). Only with --write does it rewrite that one section of
 * BENCHMARKS.md and bench/results/<section>.json and .svg, so a trial run cannot replace published figures.
 *
 * Root only: --notsent-lowat 131072 sets net.ipv4.tcp_notsent_lowat for the run (sysctl -w) and restores
 * it afterwards; without root it fails before anything starts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, sleep } from '../harness/procs.js';
import { cProgram } from '../harness/c-build.js';
import { benchEncode, type EncodeResult } from './encode.js';
import { fanout, type FanoutOptions, type FanoutResult } from './fanout.js';
import { fanoutNode } from './fanout-node.js';
import { runFleet } from './fleet/run.js';
import { resolveOptions, usage, type BenchOptions } from './options.js';
import { overloadSweep, type OverloadRow } from './overload.js';
import { plot } from './plot.js';
import { encodeTable, fanoutTable, measuredLine, overloadTable, ratioSummary, soakReport, writeSection, type RunInfo } from './report.js';
import { soak, type SoakResult } from '../harness/soak.js';
import { wsSlow, wsSlowTable, type WsSlowRow } from './ws-slow.js';
import { startGateways, startStack, stopAll } from './stack.js';
import { fmt, median } from '../harness/stats.js';
import { checkSameBytes, runTrials } from './trials.js';
import type { SameBytes } from './verify.js';

const progress = (line: string): void => {
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(70)}`);
};

function setLowat(value: string): string {
  const before = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_notsent_lowat']).toString().trim();
  try {
    execFileSync('sysctl', ['-q', '-w', `net.ipv4.tcp_notsent_lowat=${value}`], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`--notsent-lowat needs root (sysctl -w net.ipv4.tcp_notsent_lowat failed: ${(err as Error).message.split('\n')[0]})`);
  }
  return before;
}

/** bench/results/ holds what BENCHMARKS.md shows; a run without --write goes to bench/results/last/ (not in git). */
function resultsBase(o: BenchOptions): string {
  const dir = o.write ? path.join(ROOT, 'bench', 'results') : path.join(ROOT, 'bench', 'results', 'last');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, o.section);
}

function saveResults(o: BenchOptions, result: object, svg: string | null): void {
  const base = resultsBase(o);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2));
  if (svg) writeFileSync(`${base}.svg`, svg);
}

function publish(o: BenchOptions, body: string): void {
  console.log(`\n${body}`);
  const where = path.relative(ROOT, resultsBase(o));
  if (!o.write) {
    console.log(`\nwrote ${where}.json; BENCHMARKS.md unchanged (pass --write to rewrite its section ${o.section})`);
    return;
  }
  writeSection(o.section, body);
  console.log(`\nwrote BENCHMARKS.md (section ${o.section}) and ${where}.json`);
}

const captureLine = (o: BenchOptions): string =>
  `capture: ${o.source === 'clip' ? 'testsrc2 clip (ffmpeg), looped' : 'test pattern'} ${o.width}x${o.height} at ${o.fps} fps, JPEG_QUALITY ${o.quality}`;

const sameBytesNote = (r: SameBytes | null): string =>
  r
    ? ` Same bytes: ${r.identical} of ${r.compared} parts that camfan and the C baseline both sent were compared byte for byte and ${r.identical === r.compared ? 'all were' : 'NOT all were'} identical.`
    : '';

async function runSweep(o: BenchOptions, run: RunInfo, sysctls: string[]): Promise<void> {
  let encode: EncodeResult[] = [];
  if (o.encode) {
    console.log('JPEG encode at 640x480, 1280x720, 1920x1080 …');
    encode = await benchEncode(
      [
        [640, 480],
        [1280, 720],
        [1920, 1080],
      ],
      o.quality,
    );
    console.log(`${encodeTable(encode)}\n`);
  }
  const stack = await startStack(o);
  let rows: FanoutResult[];
  let sameBytes: SameBytes | null = null;
  try {
    if (o.baseline) sameBytes = await checkSameBytes(stack);
    const rc = stack.redis.client();
    const base: Omit<FanoutOptions, 'clients'> = {
      slowFraction: o.slow,
      slowRate: o.slowRate,
      warmupSeconds: o.warmup,
      seconds: o.seconds,
      probes: o.probes,
      redis: rc,
      progress,
    };
    rows = await runTrials(stack, o, (server, clients) => (o.nodeClient ? fanoutNode : fanout)(server.target, { ...base, clients }));
  } finally {
    await stack.stop();
  }
  saveResults(o, { ...run, sysctls, settings: o, encode, sameBytes, fanouts: rows }, plot(rows, o.fps));
  publish(
    o,
    [
      measuredLine(run, `; net.ipv4.tcp_notsent_lowat=${sysctls[0]}, tcp_wmem=${sysctls[1]}`),
      '',
      `\`${run.command}\` — ${captureLine(o)}; viewers read classic framing over loopback from the ${o.nodeClient ? 'Node' : 'C'} load client.${sameBytesNote(sameBytes)}`,
      '',
      ...(encode.length ? ['JPEG encode time per frame (OpenCV `imencodeAsync`, libjpeg-turbo):', '', encodeTable(encode), ''] : []),
      fanoutTable(rows),
      '',
      ...(ratioSummary(rows) ? [ratioSummary(rows), ''] : []),
      `![fps and latency against viewers](bench/results/${o.section}.svg)`,
    ].join('\n'),
  );
}

async function runOverload(o: BenchOptions, run: RunInfo, sysctls: string[]): Promise<void> {
  if (o.nodeClient) throw new Error('--overload uses the C load client only (the Node one would measure itself)');
  const stack = await startStack(o);
  let rows: OverloadRow[];
  let sameBytes: SameBytes | null = null;
  try {
    if (o.baseline) sameBytes = await checkSameBytes(stack);
    rows = await overloadSweep(stack, o, stack.redis.client(), progress);
  } finally {
    await stack.stop();
  }
  const frameKB = median(rows.map((r) => r.frameBytes)) / 1024;
  saveResults(o, { ...run, sysctls, settings: o, frameBytesMedian: frameKB * 1024, sameBytes, overload: rows }, plot(rows, o.fps, true));
  publish(
    o,
    [
      measuredLine(run, `; net.ipv4.tcp_notsent_lowat=${sysctls[0]}, tcp_wmem=${sysctls[1]}`),
      '',
      `\`${run.command}\` — ${captureLine(o)}: frames of ${fmt(frameKB, 0)} KB (median over the trials). Each server in turn, alone, with the same capture; viewers from the C load client; ${o.seconds} s windows after ${o.warmup} s of warm-up.${sameBytesNote(sameBytes)}`,
      '',
      overloadTable(rows),
      '',
      ...(ratioSummary(rows) ? [ratioSummary(rows), ''] : []),
      `![fps and latency against viewers, overload](bench/results/${o.section}.svg)`,
    ].join('\n'),
  );
}

async function runSoak(o: BenchOptions, run: RunInfo): Promise<void> {
  const stack = await startStack(o);
  const clients = o.clients[0]!;
  let result: SoakResult;
  try {
    const server = await startGateways(stack.redis.url, o.gateways[0]!);
    try {
      await sleep(1000); // subscribed, and the capture back at full rate
      result = await soak(server.target, {
        clients,
        seconds: o.soakSeconds,
        churnPerSecond: o.churn,
        sampleEverySeconds: o.sampleSeconds,
        progress: (l) => console.log(l),
      });
    } finally {
      await server.stop();
    }
  } finally {
    await stack.stop();
  }
  saveResults(o, { ...run, settings: o, ...result }, null);
  publish(o, soakReport(result, run, { clients, churn: o.churn, w: o.width, h: o.height, fps: o.fps, quality: o.quality }));
}

async function runWsSlow(o: BenchOptions, run: RunInfo, sysctls: string[]): Promise<void> {
  const stack = await startStack(o);
  let rows: WsSlowRow[];
  try {
    const server = await startGateways(stack.redis.url, 1);
    try {
      await sleep(1000);
      rows = await wsSlow(`http://127.0.0.1:${server.target.port}`, o, progress);
    } finally {
      await server.stop();
    }
  } finally {
    await stack.stop();
  }
  saveResults(o, { ...run, sysctls, settings: o, wsSlow: rows }, null);
  publish(
    o,
    [
      measuredLine(run, `; net.ipv4.tcp_notsent_lowat=${sysctls[0]}, tcp_wmem=${sysctls[1]}`),
      '',
      `\`${run.command}\` — ${captureLine(o)}; one /ws viewer reading its socket at ${fmt(o.slowRate / 1000, 0)} kB/s (default kernel buffers), each way in turn, ${o.seconds} s windows after ${o.warmup} s of warm-up. Frame age: capture timestamp to the whole message received.`,
      '',
      wsSlowTable(rows),
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  let o: BenchOptions | null;
  try {
    o = resolveOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\nnpm run bench -- [options]\n${usage()}`);
    process.exit(2);
  }
  if (!o) {
    console.log(`npm run bench -- [options]\n${usage()}`);
    return;
  }
  const cpu = os.cpus();
  const run: RunInfo = {
    date: new Date().toISOString(),
    machine: `${cpu[0]?.model ?? 'cpu'} × ${cpu.length} cores, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  };
  console.log(`camfan bench — ${run.date}\n${run.machine}\n${run.command}\n`);
  if (o.mode === 'sweep' || o.mode === 'overload' || o.mode === 'fleet') cProgram('load-client'); // build (or fail on a missing gcc) before starting anything
  if (o.baseline || o.mode === 'overload') cProgram('baseline-server');
  const lowatBefore = o.notsentLowat ? setLowat(o.notsentLowat) : null;
  try {
    const sysctls = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_notsent_lowat', 'net.ipv4.tcp_wmem']).toString().trim().split('\n');
    if (o.mode === 'fleet')
      await runFleet(
        o,
        run,
        (body) => publish(o, body),
        (result) => saveResults(o, { ...run, sysctls, settings: o, ...result }, null),
      );
    else if (o.mode === 'soak') await runSoak(o, run);
    else if (o.mode === 'ws-slow') await runWsSlow(o, run, sysctls);
    else if (o.mode === 'overload') await runOverload(o, run, sysctls);
    else await runSweep(o, run, sysctls);
  } finally {
    if (lowatBefore !== null) setLowat(lowatBefore);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the processes the bench started`);
    void stopAll().finally(() => process.exit(130));
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
