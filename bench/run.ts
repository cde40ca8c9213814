/**
 * npm run bench [-- --clients 1,10,50 --seconds 10 --width 1280 --height 720 --fps 30 --quality 80
 *                  --gateways 1 --slow 0 --slow-rate 300000 --no-encode]
 *
 * Starts redis-server, a capture (test pattern) and gateway processes on free ports, then for each client
 * count opens that many MJPEG connections from this process and measures delivered fps, end-to-end latency
 * (capture timestamp -> last byte here), time to first frame, invalid parts, gateway CPU per 1,000
 * delivered frames, gateway RSS and Redis egress. Writes bench/results/latest.json and the tables in
 * BENCHMARKS.md between the bench markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openStream, type StreamClient } from '../test/helpers/mjpeg-client.js';
import { freePort, ROOT, sleep, startCapture, startGateway, startRedis, waitForFrames, type GatewayHandle } from '../test/helpers/procs.js';
import { benchEncode, type EncodeResult } from './encode.js';
import { cpuSeconds, fmt, median, percentile, rssBytes } from './stats.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,10,50' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '720' },
    fps: { type: 'string', default: '30' },
    quality: { type: 'string', default: '80' },
    gateways: { type: 'string', default: '1' },
    slow: { type: 'string', default: '0' },
    'slow-rate': { type: 'string', default: '300000' },
    'no-encode': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});

interface ClientStats {
  slow: boolean;
  frames: number;
  latencies: number[];
}

interface FanoutResult {
  clients: number;
  slowClients: number;
  gateways: number;
  seconds: number;
  fpsMin: number;
  fpsP50: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  slowFpsP50: number | null;
  slowLatencyP50: number | null;
  ttffP50: number;
  ttffP99: number;
  invalidParts: number;
  deliveredFrames: number;
  gatewayCpuPer1000Frames: number;
  gatewayCpuCores: number;
  gatewayRssMB: number;
  rssPerClientKB: number;
  redisEgressMBps: number;
  loadClientCpuCores: number;
  frameBytes: number;
}

const n = (k: keyof typeof args): number => Number(args[k]);

async function redisOutputBytes(client: ReturnType<Awaited<ReturnType<typeof startRedis>>['client']>): Promise<number> {
  const info = await client.info('stats');
  return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? NaN);
}

async function fanout(gateways: GatewayHandle[], redis: Awaited<ReturnType<typeof startRedis>>, clients: number, baselineRss: number): Promise<FanoutResult> {
  const seconds = n('seconds');
  const slowCount = Math.round(clients * n('slow'));
  const url = `${gateways[0]!.base}/video_feed`;
  let measuring = false;
  let frameBytes = 0;
  const stats: ClientStats[] = [];
  const streams: StreamClient[] = [];
  for (let i = 0; i < clients; i++) {
    const st: ClientStats = { slow: i < slowCount, frames: 0, latencies: [] };
    stats.push(st);
    streams.push(
      openStream(url, {
        keepParts: false,
        ...(st.slow ? { readBytesPerSecond: n('slow-rate') } : {}),
        onPart: (p) => {
          if (!measuring) return;
          st.frames++;
          st.latencies.push(p.receivedAt - p.timestamp!);
          frameBytes = p.jpeg.length;
        },
      }),
    );
  }
  await Promise.all(streams.map((s) => s.status));
  await sleep(n('warmup') * 1000);
  const pids = gateways.map((g) => g.child.pid!);
  const rc = redis.client();
  const cpu0 = pids.map(cpuSeconds);
  const self0 = process.cpuUsage();
  const out0 = await redisOutputBytes(rc);
  const t0 = performance.now();
  measuring = true;
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu0[i]!, 0);
  const self = process.cpuUsage(self0);
  const out = await redisOutputBytes(rc);
  const rss = pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
  for (const s of streams) s.close();
  const fast = stats.filter((s) => !s.slow);
  const slow = stats.filter((s) => s.slow);
  const fps = (xs: ClientStats[]): number[] => xs.map((s) => s.frames / elapsed);
  const lat = fast.flatMap((s) => s.latencies);
  const ttff = streams.map((s) => (s.firstPartAt ?? Number.NaN) - s.connectedAt);
  const delivered = stats.reduce((a, s) => a + s.frames, 0);
  await sleep(1000);
  return {
    clients,
    slowClients: slowCount,
    gateways: gateways.length,
    seconds: elapsed,
    fpsMin: Math.min(...fps(fast)),
    fpsP50: median(fps(fast)),
    latencyP50: median(lat),
    latencyP99: percentile(lat, 99),
    latencyMax: Math.max(...lat),
    slowFpsP50: slow.length ? median(fps(slow)) : null,
    slowLatencyP50: slow.length ? median(slow.flatMap((s) => s.latencies)) : null,
    ttffP50: median(ttff),
    ttffP99: percentile(ttff, 99),
    invalidParts: streams.reduce((a, s) => a + s.invalid.length, 0),
    deliveredFrames: delivered,
    gatewayCpuPer1000Frames: (cpu / delivered) * 1000,
    gatewayCpuCores: cpu / elapsed,
    gatewayRssMB: rss / 2 ** 20,
    rssPerClientKB: (rss - baselineRss) / 1024 / clients,
    redisEgressMBps: (out - out0) / elapsed / 2 ** 20,
    loadClientCpuCores: (self.user + self.system) / 1e6 / elapsed,
    frameBytes,
  };
}

function encodeTable(rows: EncodeResult[]): string {
  return [
    '| picture | size | quality | encode median (ms) | encode p90 (ms) | JPEG size (KB) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.picture} | ${r.size} | ${r.quality} | ${fmt(r.medianMs, 2)} | ${fmt(r.p90Ms, 2)} | ${fmt(r.bytes / 1024, 0)} |`),
  ].join('\n');
}

function fanoutTable(rows: FanoutResult[]): string {
  return [
    '| viewers (slow) | gateways | fps min / p50 | latency p50 / p99 / max (ms) | slow viewers: fps p50, latency p50 (ms) | first frame p50 / p99 (ms) | invalid parts | gateway CPU s per 1,000 frames | gateway cores | gateway RSS (MB) | RSS per viewer (KB) | Redis egress (MB/s) | load client cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.clients} (${r.slowClients}) | ${r.gateways} | ${fmt(r.fpsMin)} / ${fmt(r.fpsP50)} | ${fmt(r.latencyP50)} / ${fmt(r.latencyP99)} / ${fmt(r.latencyMax)} | ${r.slowFpsP50 === null ? '–' : `${fmt(r.slowFpsP50)}, ${fmt(r.slowLatencyP50!, 0)}`} | ${fmt(r.ttffP50)} / ${fmt(r.ttffP99)} | ${r.invalidParts} | ${fmt(r.gatewayCpuPer1000Frames, 3)} | ${fmt(r.gatewayCpuCores, 2)} | ${fmt(r.gatewayRssMB)} | ${fmt(r.rssPerClientKB)} | ${fmt(r.redisEgressMBps, 2)} | ${fmt(r.loadClientCpuCores, 2)} |`,
    ),
  ].join('\n');
}

function writeBenchmarksMd(section: string): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  let md: string;
  try {
    md = readFileSync(file, 'utf8');
  } catch {
    md = `# Benchmarks\n\n${start}\n${end}\n`;
  }
  const i = md.indexOf(start);
  const j = md.indexOf(end);
  md = i >= 0 && j > i ? md.slice(0, i + start.length) + '\n' + section + '\n' + md.slice(j) : `${md}\n${start}\n${section}\n${end}\n`;
  writeFileSync(file, md);
}

async function main(): Promise<void> {
  const [w, h, fps, quality] = [n('width'), n('height'), n('fps'), n('quality')];
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const date = new Date().toISOString();
  console.log(`camfan bench — ${date}\n${machine}\n${command}\n`);

  let encode: EncodeResult[] = [];
  if (!args['no-encode']) {
    console.log('encode: 640x480, 1280x720, 1920x1080 …');
    encode = await benchEncode([[640, 480], [1280, 720], [1920, 1080]], quality);
    console.log(encodeTable(encode) + '\n');
  }

  const redis = await startRedis();
  const port = await freePort();
  const capture = startCapture({ REDIS_URL: redis.url, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: String(w), CAPTURE_HEIGHT: String(h), CAPTURE_FPS: String(fps), JPEG_QUALITY: String(quality), LOG_LEVEL: 'warn' });
  const gateways: GatewayHandle[] = [];
  for (let i = 0; i < n('gateways'); i++) gateways.push(await startGateway({ REDIS_URL: redis.url, PORT: String(port) }));
  await waitForFrames(redis, 'cam0');
  await sleep(500);
  const baselineRss = gateways.reduce((s, g) => s + rssBytes(g.child.pid!), 0);
  const fanouts: FanoutResult[] = [];
  try {
    for (const clients of String(args.clients).split(',').map(Number)) {
      process.stdout.write(`fan-out: ${clients} viewers (${Math.round(clients * n('slow'))} slow), ${n('gateways')} gateway(s), ${w}x${h}@${fps} … `);
      const r = await fanout(gateways, redis, clients, baselineRss);
      fanouts.push(r);
      console.log(`fps p50 ${fmt(r.fpsP50)}, latency p50 ${fmt(r.latencyP50)} ms, invalid ${r.invalidParts}`);
    }
  } finally {
    await Promise.all([...gateways.map((g) => g.stop()), capture.stop()]);
    await redis.stop();
  }
  console.log('\n' + fanoutTable(fanouts));

  const result = { date, machine, command, settings: { width: w, height: h, fps, quality }, encode, fanouts };
  writeFileSync(path.join(ROOT, 'bench', 'results', 'latest.json'), JSON.stringify(result, null, 2));
  if (!args['no-write']) {
    writeBenchmarksMd(
      [
        `Measured ${date.slice(0, 10)} on ${machine}.`,
        '',
        `Command: \`${command}\` (capture: test pattern ${w}x${h} at ${fps} fps, JPEG quality ${quality}; viewers read classic framing over loopback from the bench process).`,
        '',
        ...(encode.length ? ['### JPEG encode time per frame (OpenCV imencodeAsync, libjpeg-turbo)', '', encodeTable(encode), ''] : []),
        '### Fan-out', '',
        fanoutTable(fanouts),
      ].join('\n'),
    );
    console.log('\nwrote BENCHMARKS.md and bench/results/latest.json');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
