/**
 * The shipped deploy/nginx.conf, installed the way its header says on Debian's stock nginx layout
 * (helpers/nginx.ts: the package's own nginx.conf and default site, copied into a temporary prefix; only
 * ports, paths under /etc, /run and /var/log, and the upstream list are rewritten; its HTTPS + HTTP/2
 * lines switched on). Two gateways on different addresses
 * (127.0.0.2 and 127.0.0.3, as two hosts would be) behind it; clients on several loopback addresses
 * (127.0.0.11–13). Checks: the conflict with Debian's default site is an error, not a silent welcome
 * page; streams, WebSockets and HTTPS pass; client addresses reach the gateways (TRUSTED_PROXIES) for
 * MAX_VIEWERS_PER_IP and /api/stats; the access log has no query strings; the header-size guard;
 * failover when a gateway dies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStream } from '../../harness/mjpeg-client.js';
import { installCamfan, installStockNginx, makeCert } from '../helpers/nginx.js';
import { holdStream, probe, wsHandshake, type HeldStream } from '../helpers/http-probe.js';
import { freePort, requireTool, run, waitFor, type Proc } from '../../harness/procs.js';
import { withStack, type GatewayHandle } from '../helpers/stack.js';

describe('nginx in front of two gateways (deploy/nginx.conf on a stock Debian nginx)', () => {
  let nginx: Proc;
  let dir = '';
  let front = '';
  let listen = 0;
  let secure = '';
  let ca: Buffer;

  after(() => nginx?.stop());
  const stack = withStack(async () => {
    requireTool('nginx', 'sudo apt-get install -y nginx');
    requireTool('openssl', 'sudo apt-get install -y openssl');
    const port = await freePort();
    // As the example's header says: nginx (connecting from 127.0.0.1) is trusted, the server_name is the allowed host.
    const env = { PORT: String(port), TRUSTED_PROXIES: '127.0.0.1', ALLOWED_HOSTS: 'camfan.example.com,127.0.0.1', MAX_VIEWERS_PER_IP: '2' };
    return {
      captures: [{ CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '15' }],
      gateways: ['127.0.0.2', '127.0.0.3'].map((host) => ({ ...env, HOST: host })),
      frames: ['cam0'],
    };
  });
  const gws: GatewayHandle[] = stack.gateways;
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-nginx-'));
    listen = await freePort();
    const tlsListen = await freePort();
    makeCert(dir);
    ca = readFileSync(path.join(dir, 'cert.pem'));
    installStockNginx(dir, listen);
    installCamfan(
      dir,
      listen,
      tlsListen,
      gws.map((g) => `${g.host}:${g.port}`),
    );
    secure = `https://127.0.0.1:${tlsListen}`;
    front = `http://127.0.0.1:${listen}`;
  });

  test("with Debian's default site still enabled, nginx -t says so; removing it (as the header says) makes it valid", () => {
    const check = (): ReturnType<typeof spawnSync> => spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    const conflict = check();
    assert.notEqual(conflict.status, 0);
    assert.match(String(conflict.stderr), /duplicate default server/);
    rmSync(path.join(dir, 'sites-enabled', 'default'));
    const ok = check();
    assert.equal(ok.status, 0, String(ok.stderr));
  });

  test('viewers through nginx get whole frames at once, from both gateways', async () => {
    nginx = run('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;']);
    await waitFor('nginx', async () => (await fetch(`${front}/healthz`)).ok, 10000);
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) pids.add(((await (await fetch(`${front}/healthz`)).json()) as { pid: number }).pid);
    assert.equal(pids.size, 2, 'nginx spreads requests over both gateways');
    const s = openStream(`${front}/video_feed`);
    await waitFor('frames through nginx', () => s.count >= 15, 5000);
    s.close();
    assert.deepEqual(s.invalid, []);
    const latency = s.parts
      .slice(1)
      .map((p) => p.receivedAt - p.timestamp!)
      .sort((a, b) => a - b);
    assert.ok(latency[Math.floor(latency.length / 2)]! < 100, 'nginx passes parts on without buffering');
  });

  test('WebSockets pass through nginx, same-origin; other Host names are refused by the gateways', async () => {
    const h = await wsHandshake(`ws://127.0.0.1:${listen}/ws`, { headers: { origin: front } });
    assert.ok(h.open, 'same-origin WebSocket through nginx');
    if (h.open) {
      let frames = 0;
      h.ws.on('message', (_d, binary) => binary && frames++);
      h.ws.send(JSON.stringify({ subscribe: 'cam0' }));
      await waitFor('frames over /ws through nginx', () => frames >= 3, 5000);
      h.ws.close();
    }
    const evil = await wsHandshake(`ws://127.0.0.1:${listen}/ws`, { headers: { origin: 'https://evil.example' } });
    assert.equal(evil.open ? 'open' : evil.status, 403);
    assert.equal((await probe(`${front}/api/cameras`, { headers: { host: 'evil.example' } })).status, 421);
    assert.equal((await probe(`${front}/api/cameras`, { headers: { host: 'camfan.example.com' } })).status, 200);
  });

  test('HTTPS terminates at nginx: the stream arrives over TLS, whole', async () => {
    const s = openStream(`${secure}/video_feed`, { ca });
    assert.equal((await s.status).statusCode, 200);
    await waitFor('frames over TLS', () => s.count >= 10, 5000);
    s.close();
    assert.deepEqual(s.invalid, []);
  });

  test('the access log names each client and no query string; large headers stop at nginx', async () => {
    assert.equal((await probe(`${front}/snapshot/cam0?token=SECRET-IN-URL`, { localAddress: '127.0.0.11' })).status, 200);
    await waitFor('the access log line', () => readFileSync(path.join(dir, 'log', 'camfan.access.log'), 'utf8').includes('127.0.0.11'), 3000);
    const log = readFileSync(path.join(dir, 'log', 'camfan.access.log'), 'utf8');
    assert.match(log, /^127\.0\.0\.11 - - \[.*\] "GET \/snapshot\/cam0 HTTP\/1\.1" 200 /m);
    assert.ok(!log.includes('SECRET-IN-URL') && !log.includes('token='), 'no query string in the access log');
    const line = await probe(`${front}/healthz`, { headers: { 'x-big': 'a'.repeat(9000) } });
    assert.equal(line.status, 400, 'a header line over 8 kB');
    const many = await probe(`${front}/healthz`, { headers: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x-big-${i}`, 'a'.repeat(7000)])) });
    assert.equal(many.status, 400, 'headers over 4 x 8 kB in all');
    assert.equal((await probe(`${front}/healthz`, { headers: { 'x-ok': 'a'.repeat(6000) } })).status, 200);
  });

  test('HTTP/1.0 and requests with many header lines are answered through nginx, and leave both gateways in rotation', async () => {
    const http10 = await new Promise<string>((resolve) => {
      let text = '';
      const c = net.connect(listen, '127.0.0.1', () => c.write('GET /healthz HTTP/1.0\r\n\r\n'));
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('close', () => resolve(text));
      c.setTimeout(5000, () => c.destroy());
    });
    assert.match(http10, /^HTTP\/1\.1 200 OK/);
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`x-h${i}`, 'a']));
    const answers = await Promise.all(Array.from({ length: 4 }, () => probe(`${front}/healthz`, { headers: many, timeoutMs: 5000 })));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) pids.add((JSON.parse((await probe(`${front}/healthz`)).body) as { pid: number }).pid);
    assert.equal(pids.size, 2, 'both gateways still in rotation');
  });

  test('one gateway killed: new viewers are still served', async () => {
    const [dead] = gws;
    dead!.child.kill('SIGKILL');
    await dead!.exited;
    for (let i = 0; i < 6; i++) {
      const s = openStream(`${front}/video_feed`);
      await waitFor(`viewer ${i} gets frames`, () => s.count >= 2, 5000);
      s.close();
    }
  });

  test('TRUSTED_PROXIES: through nginx MAX_VIEWERS_PER_IP counts each client, and /api/stats lists them', async () => {
    // One gateway is left (the previous test killed the other), so every stream lands on it.
    const held: HeldStream[] = [];
    try {
      for (const client of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
        for (let i = 0; i < 2; i++) {
          const s = await holdStream(`${front}/stream/cam0`, { localAddress: client });
          held.push(s);
          assert.equal(s.status, 200, `stream ${i + 1} of ${client}`);
        }
      }
      const third = await probe(`${front}/stream/cam0`, { localAddress: '127.0.0.12' });
      assert.equal(third.status, 429, 'the third stream of one client');
      const stats = (await (await fetch(`${front}/api/stats`)).json()) as { viewers: Array<{ remote: string }> };
      assert.deepEqual([...new Set(stats.viewers.map((v) => v.remote))].sort(), ['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    } finally {
      for (const s of held) s.close();
    }
  });
});
