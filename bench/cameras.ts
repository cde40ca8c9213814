/**
 * Many cameras in one capture process: N HTTP MJPEG cameras (harness/mjpeg-camera.ts, one server, a path
 * per camera, the same testsrc2 JPEGs) in one CAMERAS_FILE, passed through (no source process). For each N:
 * the capture's RSS and CPU (from /proc, IDLE_FPS=0 so every camera runs at its rate without viewers), each
 * camera's announced fps, the Redis connections the capture opened, then one camera added to the file
 * (time to its first frame in Redis) and removed again, while a viewer of another camera through a gateway
 * records its longest wait between two frames.
 *
 *   node dist/bench/cameras.js [--cameras 1,10,50,200] [--transcoded 10] [--size 640x480] [--fps 10] [--seconds 5] [--warmup 5] [--write]
 *
 * --transcoded N adds rows of N cameras with CAPTURE_PASSTHROUGH=off: each decoded and encoded again by a
 * source process of its own (OpenCV), whose RSS and CPU are counted with the capture's.
 *
 * --write puts the table into BENCHMARKS.md between <!-- bench:cameras:start/end --> and the figures into
 * bench/results/cameras.json. The camera server's CPU is not counted: it stands for the cameras.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeJpegs, startCamera } from '../harness/mjpeg-camera.js';
import { openStream } from '../harness/mjpeg-client.js';
import { cameraEntry, childPids, ROOT, sleep, startCapture, startGateway, startRedis, waitFor, waitForFrames, type RedisHandle } from '../harness/procs.js';
import { writeSection } from './report.js';

interface Row {
  cameras: number;
  mode: 'passthrough' | 'transcode';
  rssMB: number;
  cpuPercent: number;
  fpsMin: number;
  fpsMedian: number;
  redisConnections: number;
  addToFirstFrameMs: number;
  otherViewerMaxGapMs: number;
}

const rssOne = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const cpuOne = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // clock ticks (CLK_TCK: 100 on Linux)
};

/** The capture and its source processes (a transcoded camera's; none for passthrough). */
const family = (pid: number): number[] => [pid, ...childPids(pid)];
const sum = (pids: number[], f: (pid: number) => number): number =>
  pids.reduce((total, p) => {
    try {
      return total + f(p);
    } catch {
      return total; // exited meanwhile
    }
  }, 0);

async function announced(redis: RedisHandle, n: number): Promise<{ live: number; fps: number[]; connections: number }> {
  const c = redis.client();
  try {
    const now = Date.now();
    const entries = await Promise.all(Array.from({ length: n }, (_, i) => cameraEntry(c, `c${i}`)));
    const infos = entries.filter((i) => i !== null && now - i.updatedAt! < 2500 && now - i.lastFrameAt! < 2500) as Array<{ fps: number }>;
    const connections = String(await c.client('LIST'))
      .split('\n')
      .filter((l) => / name=camfan-/.test(l)).length;
    return { live: infos.length, fps: infos.map((i) => i.fps).sort((a, b) => a - b), connections };
  } finally {
    c.disconnect();
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      cameras: { type: 'string', default: '1,10,50,200' },
      transcoded: { type: 'string', default: '' },
      size: { type: 'string', default: '640x480' },
      fps: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '5' },
      write: { type: 'boolean', default: false },
    },
  });
  const [fps, seconds, warmup] = [Number(args.fps), Number(args.seconds), Number(args.warmup)];
  const counts = args.cameras!.split(',').map(Number);
  const runs = [
    ...counts.map((n) => ({ n, mode: 'passthrough' as const })),
    ...args
      .transcoded!.split(',')
      .filter(Boolean)
      .map((n) => ({ n: Number(n), mode: 'transcode' as const })),
  ];
  const command = `node dist/bench/cameras.js ${process.argv.slice(2).join(' ')}`.trim();
  const cpus = os.cpus();
  const jpegs = makeJpegs(30, args.size);
  const server = await startCamera({ jpegs, fps });
  const redis = await startRedis();
  const gateway = await startGateway({ REDIS_URL: redis.url });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camfan-bench-cameras-'));
  const file = path.join(dir, 'cameras.json');
  const write = (n: number): void => {
    const list = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, source: `http://127.0.0.1:${server.port}/c${i}` }));
    writeFileSync(`${file}.tmp`, JSON.stringify(list));
    renameSync(`${file}.tmp`, file);
  };
  const rows: Row[] = [];
  try {
    for (const { n, mode } of runs) {
      write(n);
      // The gateway's own connections, counted before the capture opens its.
      const others = (await announced(redis, 0)).connections;
      const env = { REDIS_URL: redis.url, CAMERAS_FILE: file, CAPTURE_WIDTH: 'source', CAPTURE_HEIGHT: 'source', CAPTURE_FPS: String(fps) };
      const passthrough = mode === 'passthrough' ? 'auto' : 'off';
      const capture = startCapture({ ...env, CAPTURE_PASSTHROUGH: passthrough, IDLE_FPS: '0', DROP_SAME_FRAMES: 'off', LOG_LEVEL: 'warn' });
      const pid = capture.child.pid!;
      try {
        await waitFor(`${n} cameras live`, async () => (await announced(redis, n)).live === n, 60000, 250);
        await sleep(warmup * 1000);
        const pids = family(pid);
        const [cpu0, t0] = [sum(pids, cpuOne), performance.now()];
        await sleep(seconds * 1000);
        const cpuPercent = ((sum(pids, cpuOne) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
        const rss = sum(pids, rssOne);
        const a = await announced(redis, n);
        // One camera added and removed while a viewer watches camera c0 through the gateway.
        const viewer = openStream(`${gateway.base}/stream/c0`);
        await waitFor('the viewer streaming', () => viewer.count >= 5, 10000);
        const from = viewer.parts.length;
        const addedAt = Date.now();
        write(n + 1);
        await waitForFrames(redis, `c${n}`, 10000);
        const addMs = Date.now() - addedAt;
        await sleep(1000);
        write(n);
        await sleep(1500);
        viewer.close();
        const parts = viewer.parts.slice(from);
        const gap = Math.max(...parts.slice(1).map((p, i) => p.receivedAt - parts[i]!.receivedAt));
        const row: Row = {
          cameras: n,
          mode,
          rssMB: Math.round(rss * 10) / 10,
          cpuPercent: Math.round(cpuPercent * 10) / 10,
          fpsMin: a.fps[0] ?? 0,
          fpsMedian: a.fps[Math.floor(a.fps.length / 2)] ?? 0,
          redisConnections: a.connections - others,
          addToFirstFrameMs: addMs,
          otherViewerMaxGapMs: Math.round(gap),
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      } finally {
        await capture.stop();
      }
      await sleep(2500);
    }
  } finally {
    await Promise.all([gateway.stop(), server.close()]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows.find((r) => r.mode === 'passthrough' && r.cameras === Math.min(...counts))!;
  const perCamera = (r: Row): string => (r === base ? '' : ((r.rssMB - base.rssMB) / (r.cameras - base.cameras)).toFixed(2));
  const body = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus[0]?.model ?? 'cpu'} × ${cpus.length} cores, Node ${process.version}, with \`${command}\`:`,
    `cameras ${args.size} at ${fps} fps (${Math.round(jpegs.reduce((s, j) => s + j.length, 0) / jpegs.length / 1024)} KB/frame) in one capture process; ${seconds} s measured after ${warmup} s.`,
    'RSS (the capture and its source processes) per camera is beyond the smallest passthrough row. CPU: user + system of the same processes,',
    '% of one core. Transcode: `CAPTURE_PASSTHROUGH=off`, every frame decoded and encoded by a source process per camera. The gap is the longest wait between two',
    'frames at a viewer of another camera while one camera was added to the file and removed again.',
    '',
    '| cameras | mode | capture RSS MB | RSS per extra camera MB | CPU % of a core | fps min / median | Redis connections | add: first frame ms | other viewer max gap ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.cameras} | ${r.mode} | ${r.rssMB} | ${perCamera(r)} | ${r.cpuPercent} | ${r.fpsMin} / ${r.fpsMedian} | ${r.redisConnections} | ${r.addToFirstFrameMs} | ${r.otherViewerMaxGapMs} |`,
    ),
  ].join('\n');
  console.log(`\n${body}`);
  if (args.write) {
    writeFileSync(path.join(ROOT, 'bench', 'results', 'cameras.json'), JSON.stringify({ command, rows }, null, 2));
    writeSection('cameras', body);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
