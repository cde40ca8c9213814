/**
 * Who may talk to a gateway, against real gateways (Host and Origin checks, the /ws contract):
 * ALLOWED_HOSTS on every request but the health checks (DNS rebinding), the Origin of /ws handshakes
 * (cross-site WebSocket hijacking), /ws refusals with the headers of HTTP refusals and 405 for other
 * methods, operator data (OPERATOR_TOKEN, else local addresses only), TRUSTED_PROXIES for the client
 * address, and the page trading ?token= for an HttpOnly cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { holdStream, probe, wsHandshake } from '../helpers/http-probe.js';
import { startCapture, startGateway, startRedis, waitFor, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';

const VIEWER_TOKEN = 'viewer-token-1';
const OPERATOR_TOKEN = 'operator-token-1';
/** A page of CORS_ORIGINS on another port of the gateway's host (same site). */
const DASHBOARD = 'http://127.0.0.1:8089';

describe('hosts, origins, operator data, client addresses, token cookie', () => {
  let redis: RedisHandle;
  let capture: Proc;
  let hosts: GatewayHandle;
  let op: GatewayHandle;
  let proxied: GatewayHandle;

  before(async () => {
    redis = await startRedis();
    capture = startCapture({ REDIS_URL: redis.url, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '160', CAPTURE_HEIGHT: '120', CAPTURE_FPS: '10' });
    await waitForFrames(redis, 'cam0');
    hosts = await startGateway({ REDIS_URL: redis.url, ALLOWED_HOSTS: 'camfan.test,127.0.0.1', CORS_ORIGINS: 'https://allowed.example' });
    op = await startGateway({ REDIS_URL: redis.url, AUTH_TOKEN: VIEWER_TOKEN, OPERATOR_TOKEN, CORS_ORIGINS: DASHBOARD });
    proxied = await startGateway({ REDIS_URL: redis.url, TRUSTED_PROXIES: '127.0.0.1', MAX_VIEWERS_PER_IP: '2' });
  });

  after(async () => {
    await Promise.all([hosts, op, proxied, capture].map((p) => p?.stop()));
    await redis?.stop();
  });

  const ws = (g: GatewayHandle, query = ''): string => `${g.base.replace('http:', 'ws:')}/ws${query}`;

  test('ALLOWED_HOSTS: another Host gets 421 everywhere but /healthz and /readyz', async () => {
    for (const path of ['/', '/api/cameras', '/stream/cam0', '/video_feed', '/snapshot/cam0', '/metrics', '/api/stats', '/nope']) {
      const r = await probe(hosts.base + path, { headers: { host: 'evil.example' } });
      assert.equal(r.status, 421, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    for (const path of ['/healthz', '/readyz']) assert.equal((await probe(hosts.base + path, { headers: { host: 'evil.example' } })).status, 200, path);
    assert.equal((await probe(`${hosts.base}/api/cameras`, { headers: { host: 'camfan.test:8080' } })).status, 200);
    assert.equal((await probe(`${hosts.base}/api/cameras`)).status, 200, 'Host 127.0.0.1:port');
    const h = await wsHandshake(ws(hosts), { headers: { host: 'evil.example' } });
    assert.equal(h.open ? 'open' : h.status, 421);
  });

  test('/ws accepts its own origin, CORS_ORIGINS and non-browser clients, and refuses other origins', async () => {
    for (const origin of [`http://127.0.0.1:${hosts.port}`, 'https://allowed.example', undefined]) {
      const h = await wsHandshake(ws(hosts), origin ? { headers: { origin } } : {});
      assert.ok(h.open, `origin ${origin}`);
      if (h.open) h.ws.close();
    }
    for (const origin of ['https://evil.example', `http://127.0.0.1:${hosts.port + 1}`, 'null']) {
      const h = await wsHandshake(ws(hosts), { headers: { origin } });
      assert.ok(!h.open && h.status === 403, `origin ${origin}`);
      if (!h.open) assert.equal(h.headers['x-content-type-options'], 'nosniff');
    }
    // The refusal can reach us before its log line has crossed the gateway's stdout pipe.
    await waitFor('the refusal in the gateway log', () => /websocket refused: origin not allowed/.test(hosts.output()), 5000);
    const metrics = (await probe(`${hosts.base}/metrics`)).body;
    assert.match(metrics, /camfan_requests_refused_total\{reason="origin"\} 3/);
    assert.match(metrics, /camfan_requests_refused_total\{reason="host"\} [1-9]/);
  });

  test('/ws refusals carry nosniff and the challenge; other methods get 405 with Allow: GET', async () => {
    const h = await wsHandshake(ws(op));
    assert.ok(!h.open);
    if (!h.open) {
      assert.equal(h.status, 401);
      assert.equal(h.headers['www-authenticate'], 'Bearer realm="camfan"');
      assert.equal(h.headers['x-content-type-options'], 'nosniff');
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await probe(`${hosts.base}/ws`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET');
    }
  });

  test('operator data: local addresses only without OPERATOR_TOKEN; with it, the token from anywhere', async () => {
    for (const path of ['/api/stats', '/metrics']) {
      assert.equal((await probe(hosts.base + path)).status, 200, `${path} from loopback`);
      assert.equal((await probe(hosts.base + path, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status, 403, `${path} relayed by an untrusted proxy`);
      assert.equal(
        (await probe(proxied.base + path, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status,
        403,
        `${path} for a public client of a trusted proxy`,
      );
      assert.equal(
        (await probe(proxied.base + path, { headers: { 'x-forwarded-for': '192.168.1.5' } })).status,
        200,
        `${path} for a LAN client of a trusted proxy`,
      );
      const none = await probe(op.base + path);
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="camfan"');
      assert.equal((await probe(op.base + path, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status, 401, 'viewers do not see operator data');
      assert.equal((await probe(`${op.base}${path}?token=${OPERATOR_TOKEN}`)).status, 401, 'not in URLs');
      const ok = await probe(op.base + path, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'x-forwarded-for': '203.0.113.7' } });
      assert.equal(ok.status, 200);
    }
  });

  test('TRUSTED_PROXIES: viewers are counted and listed under the forwarded address', async () => {
    const s = await holdStream(`${proxied.base}/stream/cam0`, { headers: { 'x-forwarded-for': '198.51.100.23' } });
    const spoofed = await holdStream(`${hosts.base}/stream/cam0`, { headers: { 'x-forwarded-for': '198.51.100.24' } });
    try {
      assert.equal(s.status, 200);
      const remotes = async (g: GatewayHandle): Promise<string[]> =>
        ((await (await fetch(`${g.base}/api/stats`)).json()) as { viewers: Array<{ remote: string }> }).viewers.map((v) => v.remote);
      await waitFor('the viewer listed', async () => (await remotes(proxied)).includes('198.51.100.23'), 3000);
      await waitFor('the spoofed viewer listed', async () => (await remotes(hosts)).length === 1, 3000);
      assert.deepEqual(await remotes(hosts), ['127.0.0.1'], 'forwarding headers from an untrusted peer are ignored');
    } finally {
      s.close();
      spoofed.close();
    }
  });

  test("TRUSTED_PROXIES: a proxy's own entry that is no bare address names no client; Forwarded or Via from others is relayed", async () => {
    // The left-most entries are the client's own say: 127.0.0.1 there would make it local.
    for (const bad of ['203.0.113.9:5555', '[2001:db8::9]:443', 'unknown']) {
      const r = await probe(`${proxied.base}/api/stats`, { headers: { 'x-forwarded-for': `127.0.0.1, ${bad}` } });
      assert.equal(r.status, 403, `right-most entry ${bad}: the client is unknown, not local`);
    }
    // Four clients naming four addresses on the left: all taken as the proxy's, so MAX_VIEWERS_PER_IP=2 holds.
    const held = await Promise.all(
      [1, 2, 3, 4].map((i) => holdStream(`${proxied.base}/stream/cam0`, { headers: { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9:5555` } })),
    );
    try {
      const statuses = held.map((h) => h.status).sort();
      assert.deepEqual(statuses, [200, 200, 429, 429], `streams admitted: ${statuses.join(', ')}`);
    } finally {
      for (const h of held) h.close();
    }
    for (const headers of [{ forwarded: 'for=192.168.1.5' }, { via: '1.1 proxy.example' }] as Record<string, string>[]) {
      const r = await probe(`${hosts.base}/api/stats`, { headers });
      assert.equal(r.status, 403, `${JSON.stringify(headers)} from an untrusted peer counts as relayed`);
      assert.equal(
        (await probe(`${proxied.base}/api/stats`, { headers })).status,
        403,
        `${JSON.stringify(headers)} alone from a trusted proxy names no client`,
      );
    }
    assert.equal(
      (await probe(`${proxied.base}/api/stats`, { headers: { 'x-forwarded-for': '203.0.113.9, 192.168.1.5' } })).status,
      200,
      'the right-most entry decides',
    );
  });

  test('the page trades ?token= for an HttpOnly SameSite cookie that opens the API and /ws', async () => {
    const page = await probe(`${op.base}/?token=${VIEWER_TOKEN}`);
    assert.equal(page.status, 200);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const setCookie = page.headers['set-cookie']?.[0] ?? '';
    assert.equal(setCookie, `camfan_token=${VIEWER_TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
    // The page's script is served apart (gateway/page/client, as /page/*.js): it strips the token from the address bar and builds no URL with it.
    const scripts = await Promise.all(['main', 'socket', 'imgfeed', 'tile'].map(async (m) => (await probe(`${op.base}/page/${m}.js`)).body));
    assert.match(scripts[0]!, /params\.delete\('token'\)[\s\S]*history\.replaceState/);
    for (const body of scripts) assert.doesNotMatch(body, /token=/, 'the page puts the token in no URL');
    const cookie = setCookie.split(';')[0]!;
    assert.equal((await probe(`${op.base}/api/cameras`, { headers: { cookie } })).status, 200);
    assert.equal((await probe(`${op.base}/api/cameras`, { headers: { cookie: 'camfan_token=wrong-token-0' } })).status, 401);
    assert.equal((await probe(`${op.base}/?token=wrong-token-0`)).headers['set-cookie'], undefined);
    assert.equal((await probe(`${op.base}/`, { headers: { cookie } })).headers['set-cookie'], undefined, 'no cookie without ?token=');
    const h = await wsHandshake(ws(op), { headers: { cookie, origin: `http://127.0.0.1:${op.port}` } });
    assert.ok(h.open);
    if (h.open) {
      let frames = 0;
      h.ws.on('message', (_d, binary) => binary && frames++);
      h.ws.send(JSON.stringify({ subscribe: 'cam0' }));
      await waitFor('frames over the cookie-authenticated socket', () => frames >= 2, 5000);
      h.ws.close();
    }
    assert.ok(!op.output().includes(VIEWER_TOKEN) && !op.output().includes(OPERATOR_TOKEN), 'tokens never logged');
  });

  test("the cookie from another origin's page (Sec-Fetch-Site) is refused as origin, counted; ?token=, Bearer, CORS_ORIGINS and non-browsers keep working", async () => {
    const cookie = `camfan_token=${VIEWER_TOKEN}`;
    const img = { cookie, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
    const corp = (h: { headers: Record<string, unknown> }): unknown => h.headers['cross-origin-resource-policy'];
    const refusedBefore = (await probe(`${op.base}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).body;
    const originCount = (text: string): number => Number(/camfan_requests_refused_total\{reason="origin"\} (\d+)/.exec(text)?.[1] ?? 0);
    for (const path of ['/snapshot/cam0', '/api/cameras']) {
      for (const site of ['same-site', 'cross-site']) {
        const r = await probe(op.base + path, { headers: { ...img, 'sec-fetch-site': site } });
        assert.equal(r.status, 403, `${path} ${site}`);
        assert.equal(r.headers['x-camfan-refusal'], 'origin');
        assert.match(r.body, /token cookie is taken from this gateway's own pages only/);
      }
      const own = await probe(op.base + path, { headers: { cookie, 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'image' } });
      assert.deepEqual([own.status, corp(own)], [200, 'same-origin'], `${path}: the gateway's own page; another origin's cannot read it`);
      const plain = await probe(op.base + path, { headers: { cookie } });
      assert.deepEqual(
        [plain.status, corp(plain)],
        [200, 'same-origin'],
        `${path}: no Sec-Fetch-Site (not a browser, or plain http on a LAN): CORP guards the browser`,
      );
      const query = await probe(`${op.base}${path}?token=${VIEWER_TOKEN}`, { headers: img });
      assert.deepEqual([query.status, corp(query)], [200, 'cross-origin'], `${path}: ?token= embeds anywhere`);
      const bearer = await probe(op.base + path, { headers: { ...img, authorization: `Bearer ${VIEWER_TOKEN}` } });
      assert.deepEqual([bearer.status, corp(bearer)], [200, 'cross-origin'], `${path}: Bearer`);
      const listed = await probe(op.base + path, { headers: { ...img, referer: `${DASHBOARD}/wall.html` } });
      assert.deepEqual([listed.status, corp(listed)], [200, 'same-site'], `${path}: an <img> of a CORS_ORIGINS page`);
    }
    const stream = await holdStream(`${op.base}/stream/cam0`, { headers: img });
    stream.close();
    assert.equal(stream.status, 403, 'the stream too');
    const link = await holdStream(`${op.base}/stream/cam0`, { headers: { ...img, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
    link.close();
    assert.equal(link.status, 200, 'a link followed from a same-site page opens the stream for the user');
    const refused =
      originCount((await probe(`${op.base}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).body) - originCount(refusedBefore);
    console.log(`# cookie from another origin's page: ${refused} requests refused, counted as origin`);
    assert.equal(refused, 5);
    assert.match(op.output(), /"site":"same-site".*"msg":"token cookie refused: request from another origin"/);
    const open = await probe(`${hosts.base}/snapshot/cam0`, { headers: { ...img, host: '127.0.0.1' } });
    assert.deepEqual([open.status, corp(open)], [200, 'cross-origin'], 'an open gateway: anyone may embed it');
  });
});
