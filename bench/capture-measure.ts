/** One capture's cost per frame and its viewer's latency over a window (bench/capture.ts, bench/renditions-report.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CameraInfo } from '../bus/bus.js';
import { fetchJson, openStream } from '../harness/mjpeg-client.js';
import { cameraEntry, childPids, freePort, sleep, startCapture, waitFor, waitForFrames, type GatewayHandle, type RedisHandle } from '../harness/procs.js';
import { cpuSeconds, fmt, median, percentile } from '../harness/stats.js';

type Mode = 'passthrough' | 'transcode';

/** One run of the capture bench, as bench/results/*.json keep it. */
export interface CaptureRun {
  date: string;
  machine: string;
  command: string;
  quality: number;
  seconds: number;
  rows: CaptureBenchRow[];
}

export interface CaptureBenchRow {
  size: string;
  mode: Mode;
  /** What the capture announced (passthrough or transcode). */
  announced: string;
  fps: number;
  frameKB: number;
  cpuPercent: number;
  cpuMsPerFrame: number;
  latencyP50: number;
  latencyP99: number;
  /** Rendition widths watched (one viewer each) and the frames per second each viewer received. */
  renditions?: Array<{ width: number; fps: number; frameKB: number }>;
}

/** ffmpeg as an MJPEG camera, the same command for every run; -listen 1 serves one client, so one per run. */
function serveMjpeg(size: string, port: number, qscale: number): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${size}:rate=30`,
      '-c:v',
      'mjpeg',
      '-q:v',
      String(qscale),
      '-f',
      'mpjpeg',
      '-listen',
      '1',
      `http://127.0.0.1:${port}/`,
    ],
    { stdio: 'ignore' },
  );
}

export function treeCpuSeconds(pid: number): number {
  return [pid, ...childPids(pid)].reduce((sum, p) => sum + cpuSeconds(p), 0);
}

export interface MeasureOptions {
  redis: RedisHandle;
  gateway: GatewayHandle;
  size: string;
  mode: Mode;
  seconds: number;
  warmup: number;
  quality: number;
  /** Rendition widths to watch, one viewer each (the gateway and the capture must both list them in RENDITION_WIDTHS). */
  renditions?: number[];
  env?: Record<string, string>;
}

export async function measure(o: MeasureOptions): Promise<CaptureBenchRow> {
  const [w, h] = o.size.split('x');
  const port = await freePort();
  const ffmpeg = serveMjpeg(o.size, port, o.quality);
  const widths = o.renditions ?? [];
  const camera = `bench-${o.mode}-${o.size}${widths.length ? `-r${widths.join('-')}` : ''}`;
  const settings: Record<string, string> =
    o.mode === 'passthrough' ? { CAPTURE_WIDTH: 'source', CAPTURE_HEIGHT: 'source' } : { CAPTURE_WIDTH: w!, CAPTURE_HEIGHT: h!, CAPTURE_PASSTHROUGH: 'off' };
  await sleep(500); // ffmpeg listening
  const capture = startCapture({
    REDIS_URL: o.redis.url,
    CAMERA_ID: camera,
    CAPTURE_SOURCE: `http://127.0.0.1:${port}/`,
    CAPTURE_FPS: '30',
    IDLE_FPS: '0',
    DROP_SAME_FRAMES: 'off',
    LOG_LEVEL: 'warn',
    ...settings,
    ...o.env,
  });
  let measuring = false;
  const latencies: number[] = [];
  // The gateway knows a camera once its capture has announced it.
  await waitForFrames(o.redis, camera, 20000).catch(async (err: Error) => {
    await capture.stop();
    ffmpeg.kill('SIGTERM');
    throw new Error(`${err.message}\n${capture.output()}`);
  });
  // ?width snaps to the camera's width as the gateway knows it: wait until it knows the size.
  const known = async (): Promise<boolean> =>
    ((await fetchJson<{ cameras: CameraInfo[] }>(`${o.gateway.base}/api/cameras`)).body.cameras.find((c) => c.camera === camera)?.width ?? 0) > 0;
  await waitFor(`the gateway to know ${camera} and its size`, known, 10000);
  const viewer = openStream(`${o.gateway.base}/stream/${camera}?framing=classic`, {
    keepParts: false,
    onPart: (p) => measuring && p.timestamp && latencies.push(p.receivedAt - p.timestamp),
  });
  const renditionViewers = widths.map((width) => {
    const r = { width, bytes: 0, count: 0 };
    const onPart = (p: { jpeg: Buffer }): void => {
      if (!measuring) return;
      r.count++;
      r.bytes += p.jpeg.length;
    };
    return { r, stream: openStream(`${o.gateway.base}/stream/${camera}?width=${width}&framing=classic`, { keepParts: false, onPart }) };
  });
  try {
    await waitFor(`${camera}: frames at the viewers`, () => viewer.count > 10 && renditionViewers.every((r) => r.stream.count > 10), 20000);
    await sleep(o.warmup * 1000);
    const pid = capture.child.pid!;
    const children0 = childPids(pid).join();
    const cpu0 = treeCpuSeconds(pid);
    const n0 = viewer.count;
    const t0 = performance.now();
    measuring = true;
    await sleep(o.seconds * 1000);
    measuring = false;
    const cpu = treeCpuSeconds(pid) - cpu0;
    // A child that ended (or started) during the window takes its CPU time with it: the row would be wrong.
    if (childPids(pid).join() !== children0)
      throw new Error(`${camera}: the capture's child processes changed during the measurement (${children0} -> ${childPids(pid).join()})`);
    const frames = viewer.count - n0;
    const elapsed = (performance.now() - t0) / 1000;
    const info = (await cameraEntry(o.redis.client(), camera)) ?? {};
    return {
      size: o.size,
      mode: o.mode,
      announced: info.mode ?? '?',
      fps: frames / elapsed,
      frameKB: (info.lastFrameBytes ?? 0) / 1024,
      cpuPercent: (100 * cpu) / elapsed,
      cpuMsPerFrame: (1000 * cpu) / Math.max(1, frames),
      latencyP50: median(latencies),
      latencyP99: percentile(latencies, 99),
      ...(widths.length
        ? { renditions: renditionViewers.map(({ r }) => ({ width: r.width, fps: r.count / elapsed, frameKB: r.bytes / Math.max(1, r.count) / 1024 })) }
        : {}),
    };
  } finally {
    viewer.close();
    for (const r of renditionViewers) r.stream.close();
    await capture.stop();
    // LOG_LEVEL=warn: whatever the capture said is worth reading next to its figures.
    if (capture.output().trim()) console.error(`${camera} capture output:\n${capture.output().trim()}`);
    ffmpeg.kill('SIGTERM');
  }
}

export function captureReport(rows: CaptureBenchRow[], c: { date: string; machine: string; command: string; quality: number; seconds: number }): string {
  const lines = [
    `Measured ${c.date.slice(0, 16).replace('T', ' ')} UTC on ${c.machine}, with \`${c.command}\`: an ffmpeg`,
    `\`testsrc2\` MJPEG stream at 30 fps (\`-q:v ${c.quality}\`, served with \`-f mpjpeg -listen 1\`), one capture, one gateway,`,
    `one viewer; ${c.seconds} s measured per row after a warm-up. CPU: user + system of the capture process and its source`,
    'process (from /proc), per frame the viewer received and as % of one core; ffmpeg (the camera) not counted.',
    'Latency: capture timestamp to the last byte of the part at the viewer. Passthrough stamps a frame when its last byte',
    'has arrived from the camera; transcoding stamps it after OpenCV has read and decoded it, so its figure leaves out the decode.',
    "Transcoding is `CAPTURE_PASSTHROUGH=off` at the source's size (OpenCV/FFmpeg decode, JPEG_QUALITY 80 encode), as before passthrough.",
    '',
    '| size | mode (announced) | fps | KB/frame | capture CPU % of a core | CPU ms/frame | latency p50 / p99 ms | CPU vs transcoding |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const t = rows.find((x) => x.size === r.size && x.mode === 'transcode');
    const ratio = r.mode === 'passthrough' && t ? `${fmt((100 * r.cpuMsPerFrame) / t.cpuMsPerFrame, 0)} %` : '';
    lines.push(
      `| ${r.size} | ${r.mode} (${r.announced}) | ${fmt(r.fps)} | ${fmt(r.frameKB, 0)} | ${fmt(r.cpuPercent)} | ${fmt(r.cpuMsPerFrame, 2)} | ${fmt(r.latencyP50)} / ${fmt(r.latencyP99)} | ${ratio} |`,
    );
  }
  const p = rows.find((x) => x.size === '1280x720' && x.mode === 'passthrough');
  const t = rows.find((x) => x.size === '1280x720' && x.mode === 'transcode');
  if (p && t) {
    const ratio = p.cpuMsPerFrame / t.cpuMsPerFrame;
    lines.push(
      '',
      `Target (zero-transcode capture): at 720p30 the capture passing through uses at most ¼ of the CPU of \`CAPTURE_PASSTHROUGH=off\`: ${fmt(100 * ratio, 0)} % per frame (${fmt(p.cpuPercent)} % against ${fmt(t.cpuPercent)} % of a core) — ${ratio <= 0.25 ? 'met' : 'not met'}.`,
    );
  }
  return lines.join('\n');
}
