/**
 * Access control, limits, CORS and secrets, against real gateways and a Redis that requires a password.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { openStream } from '../../harness/mjpeg-client.js';
import { freePort, run, startCapture, startGateway, waitFor, waitForFrames, type GatewayHandle, type Proc } from '../../harness/procs.js';
import { Redis } from 'ioredis';

const TOKEN = 'secret-token-123';
const CAM1_TOKEN = 'cam1-token-456';
const BASIC = 'alice:wonderland-pass';
const REDIS_PASSWORD = 'redis-secret-pw';

describe('security', () => {
  let redisProc: Proc;
  let redisUrl = '';
  let tokenGw: GatewayHandle;
  let basicGw: GatewayHandle;
  let openGw: GatewayHandle;
  const captures: Proc[] = [];

  before(async () => {
    const port = await freePort();
    redisProc = run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', REDIS_PASSWORD]);
    redisUrl = `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}`;
    await waitFor('redis', async () => {
      const r = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
    const env = { REDIS_URL: redisUrl, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '10', LOG_LEVEL: 'debug' };
    captures.push(startCapture({ ...env, CAMERA_ID: 'cam0' }), startCapture({ ...env, CAMERA_ID: 'cam1' }));
    tokenGw = await startGateway({
      REDIS_URL: redisUrl,
      AUTH_TOKEN: TOKEN,
      CAMERA_TOKENS: `cam1=${CAM1_TOKEN}`,
      CORS_ORIGINS: 'https://allowed.example',
      MAX_VIEWERS_PER_IP: '3',
      LOG_LEVEL: 'debug',
    });
    basicGw = await startGateway({ REDIS_URL: redisUrl, AUTH_BASIC: BASIC, MAX_VIEWERS: '2', LOG_LEVEL: 'debug' });
    openGw = await startGateway({ REDIS_URL: redisUrl });
    await waitForFrames({ client: () => new Redis(redisUrl) }, 'cam0');
    await waitForFrames({ client: () => new Redis(redisUrl) }, 'cam1');
  });

  after(async () => {
    await Promise.all([tokenGw?.stop(), basicGw?.stop(), openGw?.stop(), ...captures.map((c) => c.stop())]);
    await redisProc?.stop();
  });

  const status = async (url: string, init?: RequestInit): Promise<Response> => {
    const r = await fetch(url, init);
    await r.arrayBuffer();
    return r;
  };

  test('without credentials only /healthz and /readyz answer; the rest is 401 with a challenge', async () => {
    for (const path of ['/stream/cam0', '/video_feed', '/snapshot/cam0', '/api/cameras', '/', '/metrics', '/api/stats']) {
      const r = await status(tokenGw.base + path);
      assert.equal(r.status, 401, path);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="camfan"');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-camfan-refusal'), 'auth', `${path}: the refusal's code`);
    }
    assert.equal((await status(`${tokenGw.base}/healthz`)).status, 200);
    assert.equal((await status(`${tokenGw.base}/readyz`)).status, 200);
    assert.equal((await status(`${tokenGw.base}/snapshot/cam0?token=wrong-token-000`)).status, 401);
  });

  test('the token works as a Bearer header and as ?token=, for streams, snapshots, the page and WebSockets', async () => {
    const s = openStream(`${tokenGw.base}/stream/cam0`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal((await s.status).statusCode, 200);
    await waitFor('frames', () => s.count >= 2, 5000);
    s.close();
    assert.equal((await status(`${tokenGw.base}/snapshot/cam0?token=${TOKEN}`)).status, 200);
    assert.equal((await status(`${tokenGw.base}/?token=${TOKEN}`)).status, 200);
    assert.equal((await status(`${tokenGw.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${tokenGw.base.replace('http', 'ws')}/ws`);
      ws.on('error', (err) => resolve(err.message));
      ws.on('open', () => resolve('opened'));
    });
    assert.match(refused, /401/);
    const ws = new WebSocket(`${tokenGw.base.replace('http', 'ws')}/ws?token=${TOKEN}`);
    let frames = 0;
    ws.on('message', (_d, binary) => binary && frames++);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: 'cam0' }));
    await waitFor('websocket frames', () => frames >= 2, 5000);
    ws.close();
  });

  test('a camera token opens its camera only', async () => {
    assert.equal((await status(`${tokenGw.base}/snapshot/cam1?token=${CAM1_TOKEN}`)).status, 200);
    assert.equal((await status(`${tokenGw.base}/snapshot/cam0?token=${CAM1_TOKEN}`)).status, 401);
    assert.equal((await status(`${tokenGw.base}/metrics?token=${CAM1_TOKEN}`)).status, 401);
    const list = (await (await fetch(`${tokenGw.base}/api/cameras?token=${CAM1_TOKEN}`)).json()) as { cameras: Array<{ camera: string }> };
    assert.deepEqual(
      list.cameras.map((c) => c.camera),
      ['cam1'],
    );
  });

  test('HTTP Basic', async () => {
    const r = await status(`${basicGw.base}/snapshot/cam0`);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="camfan"/);
    const auth = { authorization: `Basic ${Buffer.from(BASIC).toString('base64')}` };
    assert.equal((await status(`${basicGw.base}/snapshot/cam0`, { headers: auth })).status, 200);
    const wrong = { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` };
    assert.equal((await status(`${basicGw.base}/snapshot/cam0`, { headers: wrong })).status, 401);
  });

  test('MAX_VIEWERS_PER_IP answers 429 and MAX_VIEWERS 503 beyond the limit, and counts them', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const three = [0, 1, 2].map(() => openStream(`${tokenGw.base}/stream/cam0`, { headers }));
    for (const s of three) assert.equal((await s.status).statusCode, 200);
    assert.equal((await status(`${tokenGw.base}/stream/cam0`, { headers })).status, 429);
    three[0]!.close();
    await three[0]!.closed;
    await waitFor(
      'a slot frees up',
      async () => {
        const s = openStream(`${tokenGw.base}/stream/cam0`, { headers });
        const ok = (await s.status).statusCode === 200;
        s.close();
        return ok;
      },
      3000,
    );
    for (const s of three) s.close();

    const basic = { authorization: `Basic ${Buffer.from(BASIC).toString('base64')}` };
    const two = [0, 1].map(() => openStream(`${basicGw.base}/stream/cam1`, { headers: basic }));
    for (const s of two) assert.equal((await s.status).statusCode, 200);
    assert.equal((await status(`${basicGw.base}/stream/cam1`, { headers: basic })).status, 503);
    for (const s of two) s.close();
    const metrics = await (await fetch(`${tokenGw.base}/metrics`, { headers })).text();
    assert.match(metrics, /camfan_requests_refused_total\{reason="max_viewers_per_ip"\} [1-9]/);
    assert.match(metrics, /camfan_requests_refused_total\{reason="auth"\} [1-9]/);
  });

  test('CORS: off by default, the allow-list only', async () => {
    const allowed = await status(`${tokenGw.base}/snapshot/cam0?token=${TOKEN}`, { headers: { origin: 'https://allowed.example' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://allowed.example');
    const other = await status(`${tokenGw.base}/snapshot/cam0?token=${TOKEN}`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const open = await status(`${openGw.base}/snapshot/cam0`, { headers: { origin: 'https://allowed.example' } });
    assert.equal(open.headers.get('access-control-allow-origin'), null, 'no CORS unless configured');
    const preflight = await status(`${tokenGw.base}/snapshot/cam0`, {
      method: 'OPTIONS',
      headers: { origin: 'https://allowed.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'Authorization');
  });

  test('secrets never reach a log line; an open gateway says so', () => {
    const logs = [tokenGw, basicGw, openGw, ...captures].map((p) => p.output()).join('\n');
    for (const secret of [TOKEN, CAM1_TOKEN, 'wonderland-pass', REDIS_PASSWORD]) assert.ok(!logs.includes(secret), `${secret} appears in a log`);
    assert.match(logs, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.match(tokenGw.output(), /credentials required: AUTH_TOKEN, CAMERA_TOKENS \(1 cameras\)/);
    assert.match(openGw.output(), /open: no AUTH_TOKEN, AUTH_BASIC or CAMERA_TOKENS set, every client may watch every camera/);
  });
});
