/**
 * The shipped deploy/nginx.conf, for real: Debian's nginx in front of two gateways on different addresses
 * (127.0.0.2 and 127.0.0.3, as two hosts would be), viewers through nginx, one gateway killed, new viewers
 * still served.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStream } from '../helpers/mjpeg-client.js';
import { freePort, requireTool, ROOT, run, startCapture, startGateway, startRedis, waitFor, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../helpers/procs.js';

/** deploy/nginx.conf with this test's gateways, ports and certificate, inside a minimal main config. */
function nginxConfig(dir: string, listen: number, tlsListen: number, upstreams: string[]): string {
  const example = readFileSync(path.join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  let server = example.replace(/^\s*server \d+\.\d+\.\d+\.\d+:\d+ (.*);$/gm, '');
  server = server.replace(/upstream camfan_gateways \{/, `upstream camfan_gateways {\n${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=10s;`).join('\n')}`);
  server = server.replace(/listen 80;/, `listen 127.0.0.1:${listen};`);
  // The example's HTTPS lines, switched on with a certificate made for the test.
  server = server.replace(/# listen 443 ssl;/, `listen 127.0.0.1:${tlsListen} ssl;`);
  server = server.replace(/# ssl_certificate +\S+;/, `ssl_certificate ${dir}/cert.pem;`);
  server = server.replace(/# ssl_certificate_key +\S+;/, `ssl_certificate_key ${dir}/key.pem;`);
  assert.match(server, /ssl_certificate_key .*key\.pem;/);
  assert.match(server, new RegExp(`server ${upstreams[1]!.replace(/\./g, '\\.')}`));
  return `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${server}
}
`;
}

describe('nginx in front of two gateways (deploy/nginx.conf)', () => {
  let redis: RedisHandle;
  let capture: Proc;
  let nginx: Proc;
  const gws: GatewayHandle[] = [];
  let front = '';
  let secure = '';
  let ca: Buffer;

  before(async () => {
    requireTool('nginx', 'sudo apt-get install -y nginx');
    redis = await startRedis();
    capture = startCapture({ REDIS_URL: redis.url, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '15' });
    const port = await freePort();
    for (const host of ['127.0.0.2', '127.0.0.3']) gws.push(await startGateway({ REDIS_URL: redis.url, HOST: host, PORT: String(port)}));
    await waitForFrames(redis, 'cam0');
    const dir = mkdtempSync(path.join(tmpdir(), 'camfan-nginx-'));
    for (const d of ['body', 'proxy', 'fcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d));
    const listen = await freePort();
    const tlsListen = await freePort();
    requireTool('openssl', 'sudo apt-get install -y openssl');
    const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    assert.equal(cert.status, 0, String(cert.stderr));
    ca = readFileSync(path.join(dir, 'cert.pem'));
    writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, listen, tlsListen, gws.map((g) => `${g.host}:${g.port}`)));
    secure = `https://127.0.0.1:${tlsListen}`;
    nginx = run('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')]);
    front = `http://127.0.0.1:${listen}`;
    await waitFor('nginx', async () => (await fetch(`${front}/healthz`)).ok, 10000);
  });

  after(async () => {
    await nginx?.stop();
    await Promise.all([...gws.map((g) => g.stop()), capture?.stop()]);
    await redis?.stop();
  });

  test('viewers through nginx get whole frames at once, from both gateways', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) pids.add(((await (await fetch(`${front}/healthz`)).json()) as { pid: number }).pid);
    assert.equal(pids.size, 2, 'nginx spreads requests over both gateways');
    const s = openStream(`${front}/video_feed`);
    await waitFor('frames through nginx', () => s.count >= 15, 5000);
    s.close();
    assert.deepEqual(s.invalid, []);
    const latency = s.parts.slice(1).map((p) => p.receivedAt - p.timestamp!).sort((a, b) => a - b);
    assert.ok(latency[Math.floor(latency.length / 2)]! < 100, 'nginx passes parts on without buffering');
  });

  test('HTTPS terminates at nginx: the stream arrives over TLS, whole', async () => {
    const s = openStream(`${secure}/video_feed`, { ca });
    assert.equal((await s.status).statusCode, 200);
    await waitFor('frames over TLS', () => s.count >= 10, 5000);
    s.close();
    assert.deepEqual(s.invalid, []);
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
});
