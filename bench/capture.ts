/**
 * The capture's cost per frame, passthrough against transcoding: one HTTP MJPEG source served
 * by ffmpeg at 30 fps (the same command for every run), one capture, one gateway, one viewer. For each
 * size and mode: CPU of the capture process and its children (the source process) from /proc over the
 * measured window, divided by the frames the viewer received, and capture-to-viewer latency (the capture
 * timestamp, taken when the source's frame has arrived, to the last byte of the part at the viewer).
 *
 *   node dist/bench/capture.js [--seconds 10] [--warmup 3] [--sizes 640x480,1280x720,1920x1080] [--quality 3] [--write] [--render]
 *   node dist/bench/capture.js --renditions [--seconds 10] [--warmup 3] [--quality 3] [--write]
 *
 * --write puts the table into BENCHMARKS.md between <!-- bench:capture:start/end --> and the raw figures
 * into bench/results/capture.json. ffmpeg's own CPU is not counted: it stands for the camera.
 * --renditions measures instead the capture's CPU per extra rendition at 720p30: the same
 * camera in both modes with 0 to 3 renditions watched (one viewer each, besides the full-size viewer);
 * bench/renditions-report.ts writes its section (<!-- bench:renditions:start/end -->).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { requireTool, ROOT, startGateway, startRedis } from '../harness/procs.js';
import { captureReport, measure, type CaptureBenchRow, type CaptureRun } from './capture-measure.js';
import { renditionsMain } from './renditions-report.js';
import { writeSection } from './report.js';
import { fmt } from '../harness/stats.js';

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      sizes: { type: 'string', default: '640x480,1280x720,1920x1080' },
      quality: { type: 'string', default: '3' },
      write: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
      renditions: { type: 'boolean', default: false },
    },
  });
  if (args.renditions) return renditionsMain({ seconds: Number(args.seconds), warmup: Number(args.warmup), quality: Number(args.quality), write: args.write! });
  if (args.render) {
    // Re-renders the section from bench/results/capture.json (after a change of wording, without a new run).
    const saved = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'results', 'capture.json'), 'utf8')) as CaptureRun;
    writeSection('capture', captureReport(saved.rows, saved));
    return;
  }
  requireTool('ffmpeg', 'sudo apt-get install -y ffmpeg');
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model ?? 'cpu'} × ${cpus.length} cores, Node ${process.version}`;
  const date = new Date().toISOString();
  const command = `node dist/bench/capture.js ${process.argv.slice(2).join(' ')}`.trim();
  const [seconds, warmup, quality] = [Number(args.seconds), Number(args.warmup), Number(args.quality)];
  const redis = await startRedis();
  const gateway = await startGateway({ REDIS_URL: redis.url });
  const rows: CaptureBenchRow[] = [];
  try {
    for (const size of args.sizes!.split(',')) {
      for (const mode of ['passthrough', 'transcode'] as const) {
        const r = await measure({ redis, gateway, size, mode, seconds, warmup, quality });
        rows.push(r);
        console.log(
          `${size} ${mode.padEnd(11)} (${r.announced}): ${fmt(r.fps)} fps, ${fmt(r.frameKB, 0)} KB, CPU ${fmt(r.cpuPercent)} % = ${fmt(r.cpuMsPerFrame, 2)} ms/frame, latency p50 ${fmt(r.latencyP50)} p99 ${fmt(r.latencyP99)} ms`,
        );
      }
    }
  } finally {
    await gateway.stop();
    await redis.stop();
  }
  const body = captureReport(rows, { date, machine, command, quality, seconds });
  console.log(`\n${body}`);
  if (args.write) {
    writeFileSync(path.join(ROOT, 'bench', 'results', 'capture.json'), JSON.stringify({ date, machine, command, quality, seconds, rows }, null, 2));
    writeSection('capture', body);
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
}
