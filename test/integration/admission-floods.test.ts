/**
 * Admission that attackers cannot game, with real processes: a gateway with MAX_VIEWERS=auto whose
 * deliveries are made costly (SIMULATE_DELIVERY_COST_US, so that a wrong projection would refuse viewers at
 * once) takes cheap floods from other addresses of this machine (127.0.0.2–6) while legitimate viewers
 * arrive from 127.0.0.1 four times a second and /readyz is probed as often: requests for a camera that does
 * not exist, a /ws socket subscribing and unsubscribing within its command budget, and one keep-alive
 * connection pipelining requests as fast as it can. Every legitimate viewer is admitted and gets a frame,
 * /readyz stays 200, the made-up camera costs about one camera listing a second in Redis, the keep-alive
 * flood is cut by REQUEST_RATE_PER_IP (429 request_rate, its connection closed), and behind TRUSTED_PROXIES
 * the limit counts each forwarded client.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import WebSocket from 'ws';
import { openStream, type StreamClient } from '../../harness/mjpeg-client.js';
import { sleep, startGateway, waitFor } from '../../harness/procs.js';
import { cpuSeconds } from '../../harness/stats.js';
import { probe } from '../helpers/http-probe.js';
import { withStack, type GatewayHandle } from '../helpers/stack.js';

const FLOOD_MS = 4000;

interface Legitimate {
  admitted: number;
  refused: string[];
  readyOk: number;
  readyNot: string[];
}

/** New viewers every 250 ms from 127.0.0.1 (each must get a frame) and /readyz as often, for `ms`. */
async function legitimateTraffic(base: string, ms: number, streams: StreamClient[]): Promise<Legitimate> {
  const out: Legitimate = { admitted: 0, refused: [], readyOk: 0, readyNot: [] };
  const until = Date.now() + ms;
  const pending: Promise<void>[] = [];
  while (Date.now() < until) {
    const s = openStream(`${base}/stream/cam`);
    streams.push(s);
    pending.push(
      s.status.then(async ({ statusCode, headers }) => {
        if (statusCode !== 200) return void out.refused.push(`${statusCode} ${String(headers['x-camfan-refusal'])}`);
        await waitFor('a frame for the new viewer', () => s.count > 0, 3000);
        out.admitted++;
      }),
    );
    const asked = performance.now();
    pending.push(
      probe(`${base}/readyz`).then((r) => {
        if (r.status === 200) out.readyOk++;
        else out.readyNot.push(`${r.status} ${r.body.slice(0, 300)} after ${Math.round(performance.now() - asked)} ms`);
      }),
    );
    await sleep(250);
  }
  await Promise.all(pending);
  return out;
}

function assertAllServed(l: Legitimate, what: string, gateway: GatewayHandle): void {
  const log = (): string =>
    `; the gateway's log, but for the refusals:\n${gateway
      .output()
      .split('\n')
      .filter((l) => !l.includes('requests refused'))
      .slice(-20)
      .join('\n')}`;
  assert.deepEqual(l.refused, [], `${what}: legitimate viewers refused${l.refused.length ? log() : ''}`);
  assert.deepEqual(l.readyNot, [], `${what}: /readyz not ready${l.readyNot.length ? log() : ''}`);
  assert.ok(l.admitted >= (FLOOD_MS / 250) * 0.75, `${what}: ${l.admitted} legitimate viewers admitted`);
}

/** Calls of one Redis command so far (INFO commandstats). */
async function commandCalls(command: string, client: { info(s: string): Promise<string> }): Promise<number> {
  const info = await client.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

async function refusedCount(base: string, reason: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`camfan_requests_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

describe('admission under floods', () => {
  const stack = withStack(() => ({
    captures: [{ CAMERA_ID: 'cam', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '15' }],
    // 1 ms per viewer and frame: each 15 fps viewer costs 1.5 % of the loop, so a projection that kept
    // refused or departed applicants would fill the gateway within a second of any of these floods.
    gateways: [{ MAX_VIEWERS: 'auto', SIMULATE_DELIVERY_COST_US: '1000' }],
  }));
  const streams: StreamClient[] = [];
  const closeStreams = async (): Promise<void> => {
    for (const s of streams.splice(0)) s.close();
    await sleep(1500); // the gateway's load forgets them
  };
  after(closeStreams);

  test('500 requests a second for a camera that does not exist: viewers admitted, one listing a second', async () => {
    const { gateway, redis } = stack;
    const rc = redis.client();
    try {
      const agents = [2, 3, 4, 5, 6].map((n) => new http.Agent({ keepAlive: true, maxSockets: 4, localAddress: `127.0.0.${n}` }));
      const answers = new Map<string, number>();
      let stop = false;
      const flood = (async () => {
        for (let i = 0; !stop; i++) {
          const req = http.get(`${gateway.base}/stream/nosuchcam`, { agent: agents[i % agents.length] }, (res) => {
            const key = `${res.statusCode} ${String(res.headers['x-camfan-refusal'])}`;
            answers.set(key, (answers.get(key) ?? 0) + 1);
            res.resume();
          });
          req.on('error', () => answers.set('error', (answers.get('error') ?? 0) + 1));
          if (i % 10 === 9) await sleep(20); // 500 a second, 100 from each address
        }
      })();
      const scans1 = await commandCalls('scan', rc);
      const legit = await legitimateTraffic(gateway.base, FLOOD_MS, streams);
      const scans = (await commandCalls('scan', rc)) - scans1;
      stop = true;
      await flood;
      for (const a of agents) a.destroy();
      const notFound = answers.get('404 no_such_camera') ?? 0;
      console.log(
        `# unknown-camera flood: ${JSON.stringify(Object.fromEntries(answers))}; legitimate ${legit.admitted} admitted, /readyz ${legit.readyOk} ok; ` +
          `SCAN calls ${scans} in ${FLOOD_MS / 1000} s`,
      );
      assert.ok(notFound > (FLOOD_MS / 1000) * 300, `flood requests answered 404 no_such_camera: ${notFound}`);
      assert.equal(
        notFound,
        [...answers.values()].reduce((a, b) => a + b, 0),
        'every flood request answered 404 no_such_camera',
      );
      assertAllServed(legit, 'unknown-camera flood', gateway);
      // One forced listing a second for the made-up id, on top of the watchdog's own once a second while
      // viewers watch (without the memory of unknown ids: up to one every 50 ms, twenty a second).
      assert.ok(scans <= (2 * FLOOD_MS) / 1000 + 2, `SCAN calls during the flood: ${scans}`);
    } finally {
      rc.disconnect();
      await closeStreams();
    }
  });

  test('a /ws socket subscribing and unsubscribing 120 times a second: viewers admitted', async () => {
    const { gateway } = stack;
    const ws = new WebSocket(`${gateway.base.replace('http', 'ws')}/ws`, { localAddress: '127.0.0.2' });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let pairs = 0;
    const errors: string[] = [];
    ws.on('message', (data, isBinary) => {
      if (!isBinary) errors.push(String(data));
    });
    const churn = setInterval(() => {
      for (let i = 0; i < 6; i++) {
        ws.send(JSON.stringify({ subscribe: 'cam' }));
        ws.send(JSON.stringify({ unsubscribe: 'cam' }));
        pairs++;
      }
    }, 50);
    try {
      const legit = await legitimateTraffic(gateway.base, FLOOD_MS, streams);
      clearInterval(churn);
      console.log(
        `# subscribe churn: ${pairs} pairs on one socket (open: ${ws.readyState === WebSocket.OPEN}); legitimate ${legit.admitted} admitted, /readyz ${legit.readyOk} ok`,
      );
      assert.equal(ws.readyState, WebSocket.OPEN, 'within its command budget the churning socket stays open');
      assert.deepEqual(
        errors.filter((e) => e.includes('saturated')),
        [],
        'the churn itself is never refused as saturated',
      );
      assertAllServed(legit, 'subscribe churn', gateway);
    } finally {
      clearInterval(churn);
      ws.close();
      await closeStreams();
    }
  });

  test('one keep-alive connection pipelining requests: cut by REQUEST_RATE_PER_IP, viewers admitted', async () => {
    const { gateway } = stack;
    const port = Number(new URL(gateway.base).port);
    const refused0 = await refusedCount(gateway.base, 'request_rate');
    let ok = 0;
    let limited = 0;
    let connections = 0;
    let stop = false;
    // 50 pipelined requests every 5 ms: 10,000 a second, as the keep-alive flood that once kept a gateway busy.
    const request = Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(50));
    const connectOnce = (): Promise<void> =>
      new Promise((resolve) => {
        connections++;
        const sock = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
        let outstanding = 0;
        const pump = setInterval(() => {
          if (stop || !sock.writable || outstanding >= 200) return;
          outstanding += 50;
          sock.write(request);
        }, 5);
        sock.on('data', (d: Buffer) => {
          const text = d.toString('latin1');
          const oks = text.split('HTTP/1.1 200').length - 1;
          const tooMany = text.split('HTTP/1.1 429').length - 1;
          ok += oks;
          limited += tooMany;
          outstanding -= oks + tooMany;
        });
        sock.on('error', () => undefined);
        sock.on('close', () => {
          clearInterval(pump);
          resolve();
        });
      });
    const cpu0 = cpuSeconds(gateway.child.pid!);
    const t0 = performance.now();
    const flood = (async () => {
      while (!stop) await connectOnce();
    })();
    const legit = await legitimateTraffic(gateway.base, FLOOD_MS, streams);
    stop = true;
    await flood;
    const cpu = (cpuSeconds(gateway.child.pid!) - cpu0) / ((performance.now() - t0) / 1000);
    const refused = (await refusedCount(gateway.base, 'request_rate')) - refused0;
    console.log(
      `# keep-alive flood: ${ok} answered, ${limited} refused request_rate on ${connections} connections (gateway counted ${refused}); ` +
        `gateway ${(cpu * 100).toFixed(0)} % of a core; legitimate ${legit.admitted} admitted, /readyz ${legit.readyOk} ok`,
    );
    try {
      assertAllServed(legit, 'keep-alive flood', gateway);
      // A burst of 1,000, then 200 a second, however fast the flood asks.
      assert.ok(ok >= 1000 && ok <= 1000 + (200 * FLOOD_MS) / 1000 + 300, `flood requests answered: ${ok}`);
      assert.ok(limited >= connections - 2 && refused >= limited, `refused: ${limited} answered, ${refused} counted, ${connections} connections`);
      assert.ok(connections >= 2, `each refusal closes the connection: ${connections} connections`);
      assert.match(gateway.output(), /requests refused: REQUEST_RATE_PER_IP/);
    } finally {
      await closeStreams();
    }
  });

  test('behind TRUSTED_PROXIES the request rate counts each forwarded client, not the proxy', async () => {
    const gw: GatewayHandle = await startGateway({
      REDIS_URL: stack.redis.url,
      TRUSTED_PROXIES: '127.0.0.1',
      REQUEST_RATE_PER_IP: '1',
      REQUEST_BURST_PER_IP: '20',
    });
    stack.captures.push(gw);
    const asClient = (ip: string): Promise<number> => probe(`${gw.base}/healthz`, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    const first = await Promise.all(Array.from({ length: 30 }, () => asClient('203.0.113.7')));
    const other = await Promise.all(Array.from({ length: 10 }, () => asClient('203.0.113.8')));
    const direct = (await probe(`${gw.base}/healthz`)).status;
    console.log(
      `# TRUSTED_PROXIES: 203.0.113.7 ${first.filter((s) => s === 200).length} of 30 answered, 203.0.113.8 ${other.filter((s) => s === 200).length} of 10`,
    );
    assert.equal(first.filter((s) => s === 200).length, 20, 'one forwarded client: its burst of 20');
    assert.equal(first.filter((s) => s === 429).length, 10, 'then 429');
    assert.deepEqual(other, Array(10).fill(200), 'another client behind the same proxy has its own bucket');
    assert.equal(direct, 200, "the proxy's own requests are not its clients'");
  });
});
