/**
 * The host-loss viewer set, run inside the client host (`ip netns exec cf-client node …`):
 *   node dist/bench/fleet/loss-client.js HOST PORT VIEWERS SECONDS STALL_MS
 * Each viewer reads classic-framed MJPEG through the balancer and, like a page that sees its stream
 * stop, reconnects when nothing has arrived for STALL_MS or the stream closed. Writes "ready" on stderr
 * once every viewer has a frame, then at the end one JSON object on stdout: each viewer's frame arrival
 * times (ms, wall clock) and reconnect times, for bench/fleet/host-loss.ts to read.
 */
import { connect, type Socket } from 'node:net';
import { MjpegPartReader } from '../../harness/mjpeg-parts.js';

interface ViewerLog {
  frames: number[];
  reconnects: number[];
}

function viewer(host: string, port: number, stallMs: number, log: ViewerLog): () => void {
  let socket: Socket | null = null;
  let lastData = Date.now();
  let stopped = false;
  const open = (): void => {
    lastData = Date.now();
    const reader = new MjpegPartReader({ responseHead: true, onPart: () => log.frames.push(Date.now()), onInvalid: () => undefined });
    const s = connect(port, host);
    socket = s;
    s.on('connect', () => s.write(`GET /video_feed?framing=classic HTTP/1.1\r\nHost: fleet\r\nUser-Agent: camfan-bench\r\n\r\n`));
    s.on('data', (chunk: Buffer) => {
      lastData = Date.now();
      reader.push(chunk);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (stopped || socket !== s) return;
      log.reconnects.push(Date.now());
      setTimeout(open, 100);
    });
  };
  const watchdog = setInterval(() => {
    if (socket && Date.now() - lastData > stallMs) {
      const s = socket;
      log.reconnects.push(Date.now());
      socket = null;
      s.destroy();
      open();
    }
  }, 100);
  open();
  return () => {
    stopped = true;
    clearInterval(watchdog);
    socket?.destroy();
  };
}

function main(): void {
  const [host, port, viewers, seconds, stallMs] = process.argv.slice(2);
  const logs: ViewerLog[] = Array.from({ length: Number(viewers) }, () => ({ frames: [], reconnects: [] }));
  const stops = logs.map((log) => viewer(host!, Number(port), Number(stallMs), log));
  const ready = setInterval(() => {
    if (logs.every((l) => l.frames.length > 0)) {
      clearInterval(ready);
      process.stderr.write('ready\n');
      setTimeout(() => {
        for (const stop of stops) stop();
        process.stdout.write(JSON.stringify({ viewers: logs }));
        process.exit(0);
      }, Number(seconds) * 1000);
    }
  }, 50);
}

main();
