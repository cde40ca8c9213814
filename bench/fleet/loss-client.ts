/**
 * The fleet bench's viewer set, run inside the client host (`ip netns exec cf-client node …`):
 *   node dist/bench/fleet/loss-client.js HOST PORT VIEWERS SECONDS
 * Each viewer follows the page's /ws rules (harness/fleet/page-viewer.ts: beats, a silent socket dropped,
 * jittered reconnects, move before close) through the balancer. Writes "ready" on stderr once every viewer
 * has a frame, then at the end one JSON object on stdout: each viewer's log (frame arrivals, reconnects,
 * moves, refused handshakes), for bench/fleet/host-loss.ts and rolling.ts to read.
 */
import { newViewerLog, pageViewer } from '../../harness/fleet/page-viewer.js';

function main(): void {
  const [host, port, viewers, seconds] = process.argv.slice(2);
  const logs = Array.from({ length: Number(viewers) }, () => newViewerLog());
  const stops = logs.map((log) => pageViewer(host!, Number(port), 'cam0', log));
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
