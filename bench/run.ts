/**
 * npm run bench [-- options]
 *   --clients 1,50,200,500   viewer counts to measure        --seconds 10     measured window per count
 *   --width 1280 --height 720 --fps 30 --quality 80          capture settings (test pattern)
 *   --gateways 1             gateway processes on one port (SO_REUSEPORT)
 *   --slow 0.2 --slow-rate 300000   fraction of viewers reading at most that many bytes/s
 *   --baseline               also measure a plain Node net server writing the same Buffer (CPU ratio)
 *   --notsent-lowat 131072   set net.ipv4.tcp_notsent_lowat for the run (root), restored afterwards
 *   --section NAME           which section of BENCHMARKS.md to rewrite (default: main)
 *   --no-encode              skip the JPEG encode timings      --no-write   leave BENCHMARKS.md alone
 *   --soak 600 --churn 2 --sample 30   instead of the fan-out sweep: a soak with the first --clients
 *                            count, replacing --churn viewers every second, sampled every --sample seconds
 *                            (section soak-churn unless --section is given)
 *
 * Starts redis-server, a capture (test pattern) and the gateways on free ports, opens the viewers from
 * this process (bench/load-client.ts) and writes bench/results/<section>.json and .svg and the section.
 */
import { fork, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DIST, freePort, ROOT, sleep, startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle } from '../test/helpers/procs.js';
import { benchEncode, type EncodeResult } from './encode.js';
import { fanout, type FanoutResult, type Target } from './fanout.js';
import { plot } from './plot.js';
import { slope, soak, type SoakResult } from './soak.js';
import { fmt, median, rssBytes } from './stats.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,50,200,500' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '720' },
    fps: { type: 'string', default: '30' },
    quality: { type: 'string', default: '80' },
    gateways: { type: 'string', default: '1' },
    slow: { type: 'string', default: '0' },
    'slow-rate': { type: 'string', default: '300000' },
    baseline: { type: 'boolean', default: false },
    'notsent-lowat': { type: 'string' },
    section: { type: 'string', default: 'main' },
    'no-encode': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    soak: { type: 'string' },
    churn: { type: 'string', default: '2' },
    sample: { type: 'string', default: '30' },
  },
});
const num = (k: 'seconds' | 'warmup' | 'width' | 'height' | 'fps' | 'quality' | 'gateways' | 'slow' | 'slow-rate'): number => Number(args[k]);

function encodeTable(rows: EncodeResult[]): string {
  return [
    '| picture | size | quality | encode median (ms) | encode p90 (ms) | JPEG size (KB) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.picture} | ${r.size} | ${r.quality} | ${fmt(r.medianMs, 2)} | ${fmt(r.p90Ms, 2)} | ${fmt(r.bytes / 1024, 0)} |`),
  ].join('\n');
}

function fanoutTable(rows: FanoutResult[], ratios: Map<number, number>): string {
  const slow = rows.some((r) => r.slowClients > 0);
  return [
    `| server | viewers${slow ? ' (slow)' : ''} | fps min / p50 | latency p50 / p99 / max (ms) |${slow ? ' slow viewers: fps p50, latency p50 (ms) |' : ''} first frame p50 / p99 (ms) | invalid parts | CPU s per 1,000 frames | CPU cores | RSS MB (growth in window) | RSS per viewer (KB) | Redis egress (MB/s) | load client cores |`,
    `|---|---|---|---|${slow ? '---|' : ''}---|---|---|---|---|---|---|---|`,
    ...rows.map((r) => {
      const ratio = r.target === 'gateway' && ratios.has(r.clients) ? ` (${fmt(ratios.get(r.clients)!, 2)}× baseline)` : '';
      const cells = [
        `${r.target}${r.processes > 1 ? ` ×${r.processes}` : ''}`,
        `${r.clients}${slow ? ` (${r.slowClients})` : ''}`,
        `${fmt(r.fpsMin)} / ${fmt(r.fpsP50)}`,
        `${fmt(r.latencyP50)} / ${fmt(r.latencyP99)} / ${fmt(r.latencyMax)}`,
        ...(slow ? [r.slowFpsP50 === null ? '–' : `${fmt(r.slowFpsP50)}, ${fmt(r.slowLatencyP50!, 0)}`] : []),
        `${fmt(r.ttffP50)} / ${fmt(r.ttffP99)}`,
        `${r.invalidParts}`,
        `${fmt(r.cpuPer1000Frames, 3)}${ratio}`,
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

function writeSection(name: string, body: string): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let md = readFileSync(file, 'utf8');
  const i = md.indexOf(start);
  const j = md.indexOf(end);
  md = i >= 0 && j > i ? `${md.slice(0, i + start.length)}\n${body}\n${md.slice(j)}` : `${md.trimEnd()}\n\n${start}\n${body}\n${end}\n`;
  writeFileSync(file, md);
}

function setLowat(value: string): string {
  const before = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_notsent_lowat']).toString().trim();
  execFileSync('sysctl', ['-q', '-w', `net.ipv4.tcp_notsent_lowat=${value}`]);
  return before;
}

async function startBaseline(redisUrl: string): Promise<{ pid: number; port: number; stop: () => void }> {
  const port = await freePort();
  const child = fork(path.join(DIST, 'bench', 'baseline-server.js'), [redisUrl, 'cam0', String(port)], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`baseline server exited ${code}`)));
  });
  return { pid: child.pid!, port, stop: () => child.kill('SIGTERM') };
}

function soakReport(r: SoakResult, c: { date: string; machine: string; command: string; clients: number; churn: number; w: number; h: number; fps: number; quality: number }): string {
  const first = r.samples[0]!;
  const last = r.samples[r.samples.length - 1]!;
  const minutes = last.atSeconds / 60;
  const later = r.samples.slice(Math.floor(r.samples.length / 2));
  const secondHalfSlope = slope(later.map((x) => x.atSeconds / 60), later.map((x) => x.rssMB));
  return [
    `Measured ${c.date.slice(0, 16).replace('T', ' ')} UTC on ${c.machine}.`,
    '',
    `\`${c.command}\` — capture: test pattern ${c.w}x${c.h} at ${c.fps} fps, quality ${c.quality}; ${c.clients} viewers over loopback for ${fmt(minutes, 0)} min, ${c.churn} of them replaced every second (${r.connects} connections in all).`,
    '',
    `- RSS (gateway): ${fmt(first.rssMB)} MB at ${first.atSeconds} s, ${fmt(last.rssMB)} MB at ${last.atSeconds} s; fitted slope ${fmt(r.rssSlopeMBPerMin, 2)} MB/min over the run, ${fmt(secondHalfSlope, 2)} MB/min over its second half.`,
    `- File descriptors: ${r.fdsBefore} before the viewers, ${first.fds} at ${first.atSeconds} s, ${last.fds} at ${last.atSeconds} s, ${r.fdsAfter} after they left.`,
    `- Latency p99: ${fmt(first.latencyP99)} ms in the first interval, ${fmt(last.latencyP99)} ms in the last; median of intervals ${fmt(median(r.samples.map((x) => x.latencyP99)))} ms.`,
    `- Invalid parts: ${r.invalidParts}; viewers closed by the server: ${r.droppedByServer}.`,
    '',
    '| at (s) | viewers | fps p50 | latency p50 / p99 (ms) | RSS (MB) | fds |',
    '|---|---|---|---|---|---|',
    ...r.samples.map((x) => `| ${x.atSeconds} | ${x.connected} | ${fmt(x.fpsP50)} | ${fmt(x.latencyP50)} / ${fmt(x.latencyP99)} | ${fmt(x.rssMB)} | ${x.fds} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const [w, h, fps, quality] = [num('width'), num('height'), num('fps'), num('quality')];
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const cpu = os.cpus();
  const machine = `${cpu[0]?.model ?? 'cpu'} × ${cpu.length} cores, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const date = new Date().toISOString();
  const section = args.soak && !process.argv.includes('--section') ? 'soak-churn' : String(args.section);
  console.log(`camfan bench — ${date}\n${machine}\n${command}\n`);
  const lowatBefore = args['notsent-lowat'] ? setLowat(args['notsent-lowat']) : null;
  const sysctls = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_notsent_lowat', 'net.ipv4.tcp_wmem']).toString().trim().split('\n');

  let encode: EncodeResult[] = [];
  if (!args['no-encode'] && !args.soak) {
    console.log('JPEG encode at 640x480, 1280x720, 1920x1080 …');
    encode = await benchEncode([[640, 480], [1280, 720], [1920, 1080]], quality);
    console.log(encodeTable(encode) + '\n');
  }

  const redis = await startRedis();
  const capture = startCapture({ REDIS_URL: redis.url, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: String(w), CAPTURE_HEIGHT: String(h), CAPTURE_FPS: String(fps), JPEG_QUALITY: String(quality), LOG_LEVEL: 'warn' });
  const port = await freePort();
  const gateways: GatewayHandle[] = [];
  for (let i = 0; i < num('gateways'); i++) gateways.push(await startGateway({ REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'info' }));
  const baseline = args.baseline ? await startBaseline(redis.url) : null;
  await waitForFrames(redis, 'cam0');
  await sleep(1000);
  const gatewayTarget: Target = { name: 'gateway', port, path: '/video_feed?framing=classic', pids: gateways.map((g) => g.child.pid!) };
  const baselineTarget: Target | null = baseline ? { name: 'baseline', port: baseline.port, path: '/', pids: [baseline.pid] } : null;
  const rows: FanoutResult[] = [];
  const ratios = new Map<number, number>();
  const rc = redis.client();
  const progress = (line: string): void => {
    if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(70)}`);
  };
  if (args.soak) {
    const clients = Number(String(args.clients).split(',')[0]);
    const churn = Number(args.churn);
    let result: SoakResult;
    try {
      result = await soak(gatewayTarget, { clients, seconds: Number(args.soak), churnPerSecond: churn, sampleEverySeconds: Number(args.sample), progress: (l) => console.log(l) });
    } finally {
      await Promise.all([...gateways.map((g) => g.stop()), capture.stop()]);
      await redis.stop();
      if (lowatBefore !== null) setLowat(lowatBefore);
    }
    const body = soakReport(result, { date, machine, command, clients, churn, w, h, fps, quality });
    console.log('\n' + body);
    writeFileSync(path.join(ROOT, 'bench', 'results', `${section}.json`), JSON.stringify({ date, machine, command, settings: { width: w, height: h, fps, quality, clients, churn }, ...result }, null, 2));
    if (!args['no-write']) writeSection(section, body);
    return;
  }
  try {
    for (const clients of String(args.clients).split(',').map(Number)) {
      for (const target of [gatewayTarget, baselineTarget]) {
        if (!target) continue;
        const baselineRss = target.pids.reduce((s, pid) => s + rssBytes(pid), 0);
        const r = await fanout(target, { clients, slowFraction: num('slow'), slowRate: num('slow-rate'), warmupSeconds: num('warmup'), seconds: num('seconds'), baselineRss, redis: rc, progress });
        rows.push(r);
        if (process.stdout.isTTY) process.stdout.write('\r');
        console.log(`${target.name.padEnd(8)} ${String(clients).padStart(4)} viewers: fps p50 ${fmt(r.fpsP50)} (min ${fmt(r.fpsMin)}), latency p50 ${fmt(r.latencyP50)} p99 ${fmt(r.latencyP99)} ms, CPU ${fmt(r.cpuPer1000Frames, 3)} s/1000 frames, invalid ${r.invalidParts}`);
      }
      const g = rows.find((r) => r.target === 'gateway' && r.clients === clients);
      const b = rows.find((r) => r.target === 'baseline' && r.clients === clients);
      if (g && b) ratios.set(clients, g.cpuPer1000Frames / b.cpuPer1000Frames);
    }
  } finally {
    baseline?.stop();
    await Promise.all([...gateways.map((g) => g.stop()), capture.stop()]);
    await redis.stop();
    if (lowatBefore !== null) setLowat(lowatBefore);
  }
  const table = fanoutTable(rows, ratios);
  console.log('\n' + table);
  const result = { date, machine, command, sysctls, settings: { width: w, height: h, fps, quality }, encode, fanouts: rows, cpuRatioToBaseline: Object.fromEntries(ratios) };
  const base = path.join(ROOT, 'bench', 'results', section);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2));
  writeFileSync(`${base}.svg`, plot(rows.filter((r) => r.target === 'gateway'), fps));
  if (args['no-write']) return;
  writeSection(
    section,
    [
      `Measured ${date.slice(0, 16).replace('T', ' ')} UTC on ${machine}; net.ipv4.tcp_notsent_lowat=${sysctls[0]}, tcp_wmem=${sysctls[1]}.`,
      '',
      `\`${command}\` — capture: test pattern ${w}x${h} at ${fps} fps, quality ${quality}; viewers read classic framing over loopback from the bench process.`,
      '',
      ...(encode.length ? ['JPEG encode time per frame (OpenCV `imencodeAsync`, libjpeg-turbo):', '', encodeTable(encode), ''] : []),
      table,
      '',
      `![fps and latency against viewers](bench/results/${section}.svg)`,
    ].join('\n'),
  );
  console.log(`\nwrote BENCHMARKS.md (section ${section}), bench/results/${section}.json and .svg`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
