/**
 * The loop every sweep shares: at each viewer count, each server in turn (camfan with each --gateways
 * count, then the C baseline when asked), each started for its trial and stopped after it, so no two
 * servers ever run at once and the capture and Redis are the same for all.
 */
import { sleep } from '../harness/procs.js';
import type { FanoutResult } from './fanout.js';
import type { BenchOptions } from './options.js';
import { startBaseline, startGateways, type Server, type Stack } from './stack.js';
import { fmt } from '../harness/stats.js';
import { compareParts, type SameBytes } from './verify.js';

export function serverStarters(stack: Stack, o: BenchOptions): Array<() => Promise<Server>> {
  return [...o.gateways.map((n) => () => startGateways(stack.redis.url, n)), ...(o.baseline ? [() => startBaseline(stack.redis)] : [])];
}

/** Starts a gateway and the baseline side by side for a moment and compares their parts (bench/verify.ts). */
export async function checkSameBytes(stack: Stack): Promise<SameBytes> {
  const camfan = await startGateways(stack.redis.url, 1);
  try {
    const baseline = await startBaseline(stack.redis);
    try {
      await sleep(500);
      const r = await compareParts(camfan, baseline);
      const warning = r.compared > 0 && r.identical === r.compared ? '' : ' — NOT ALL: the ratios would compare different work';
      console.log(`same bytes: ${r.identical} of ${r.compared} parts camfan and the C baseline both sent are byte-identical${warning}`);
      if (r.firstDifference) console.log(`  camfan:   ${JSON.stringify(r.firstDifference.camfan)}\n  baseline: ${JSON.stringify(r.firstDifference.baseline)}`);
      return r;
    } finally {
      await baseline.stop();
    }
  } finally {
    await camfan.stop();
  }
}

export function summary(r: FanoutResult): string {
  return (
    `${r.target.padEnd(10)} ${String(r.clients).padStart(5)} viewers: fps p50 ${fmt(r.fpsP50)} (min ${fmt(r.fpsMin)}), latency p50 ${fmt(r.latencyP50)} p99 ${fmt(r.latencyP99)} ms, ` +
    `first frame p99 ${fmt(r.ttffP99)} ms, ${fmt(r.cpuCores, 2)} cores, ${fmt(r.cpuPerGB, 2)} CPU s/GB, frame ${fmt(r.frameBytes / 1024, 0)} KB, invalid ${r.invalidParts}, dropped ${r.disconnected}`
  );
}

export async function runTrials<R extends FanoutResult>(
  stack: Stack,
  o: BenchOptions,
  trial: (server: Server, clients: number) => Promise<R>,
  extra: (r: R) => string = () => '',
): Promise<R[]> {
  const rows: R[] = [];
  for (let pass = 0; pass < o.repeat; pass++) {
    for (const clients of o.clients) {
      rows.push(...(await eachServer(stack, o, clients, pass, trial, extra)));
    }
  }
  return rows;
}

async function eachServer<R extends FanoutResult>(
  stack: Stack,
  o: BenchOptions,
  clients: number,
  pass: number,
  trial: (server: Server, clients: number) => Promise<R>,
  extra: (r: R) => string,
): Promise<R[]> {
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
