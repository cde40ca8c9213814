/**
 * The loop every sweep shares: at each viewer count, each server in turn (camfan with each --gateways
 * count, then the C baseline when asked), each started for its trial and stopped after it, so no two
 * servers ever run at once and the capture and Redis are the same for all.
 */
import { sleep } from '../test/helpers/procs.js';
import type { FanoutResult } from './fanout.js';
import type { BenchOptions } from './options.js';
import { startBaseline, startGateways, type Server, type Stack } from './stack.js';
import { fmt } from './stats.js';

export function serverStarters(stack: Stack, o: BenchOptions): Array<() => Promise<Server>> {
  return [...o.gateways.map((n) => () => startGateways(stack.redis.url, n)), ...(o.baseline ? [() => startBaseline(stack.redis)] : [])];
}

export function summary(r: FanoutResult): string {
  return (
    `${r.target.padEnd(10)} ${String(r.clients).padStart(5)} viewers: fps p50 ${fmt(r.fpsP50)} (min ${fmt(r.fpsMin)}), latency p50 ${fmt(r.latencyP50)} p99 ${fmt(r.latencyP99)} ms, ` +
    `first frame p99 ${fmt(r.ttffP99)} ms, ${fmt(r.cpuCores, 2)} cores, ${fmt(r.cpuPerGB, 2)} CPU s/GB, frame ${fmt(r.frameBytes / 1024, 0)} KB, invalid ${r.invalidParts}, dropped ${r.disconnected}`
  );
}

export async function runTrials<R extends FanoutResult>(stack: Stack, o: BenchOptions, trial: (server: Server, clients: number) => Promise<R>, extra: (r: R) => string = () => ''): Promise<R[]> {
  const rows: R[] = [];
  for (let pass = 0; pass < o.repeat; pass++) {
    for (const clients of o.clients) {
      rows.push(...(await eachServer(stack, o, clients, pass, trial, extra)));
    }
  }
  return rows;
}

async function eachServer<R extends FanoutResult>(stack: Stack, o: BenchOptions, clients: number, pass: number, trial: (server: Server, clients: number) => Promise<R>, extra: (r: R) => string): Promise<R[]> {
  const rows: R[] = [];
  for (const start of serverStarters(stack, o)) {
    const server = await start();
    let row: R;
    try {
      await sleep(1000); // subscribed, and the capture back at full rate
      row = await trial(server, clients);
    } finally {
      await server.stop();
    }
    row.pass = pass;
    rows.push(row);
    if (process.stdout.isTTY) process.stdout.write('\r');
    console.log(summary(row) + extra(row));
    await sleep(500);
  }
  return rows;
}
