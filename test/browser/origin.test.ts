/**
 * In a real browser (Debian's Chromium): a page on another origin cannot open a gateway's /ws (cross-site
 * WebSocket hijacking), while the gateway's own page can; and the page opened as
 * /?token=… keeps working on the HttpOnly cookie it got in exchange, with the token gone from the
 * address bar, from page script (document.cookie), from every URL the page requests and from every
 * Referer (the page's script is asked for while the token is still in the address bar); a page on another
 * port of the same host (same site: the browser sends it the cookie) cannot embed the camera on that cookie.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startCapture, startGateway, startRedis, waitFor, waitForFrames, type GatewayHandle, type Proc, type RedisHandle } from '../../harness/procs.js';
import { launchPlaywrightChromium } from './browsers.js';

const TOKEN = 'browser-token-42';

describe('browser: /ws origins and the token cookie', () => {
  let redis: RedisHandle;
  let capture: Proc;
  let open: GatewayHandle;
  let authed: GatewayHandle;
  let attacker: http.Server;
  let attackerUrl = '';
  let sibling: http.Server;
  let siblingUrl = '';
  let browser: Browser;

  before(async () => {
    redis = await startRedis();
    capture = startCapture({ REDIS_URL: redis.url, CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '160', CAPTURE_HEIGHT: '120', CAPTURE_FPS: '10' });
    await waitForFrames(redis, 'cam0');
    open = await startGateway({ REDIS_URL: redis.url });
    authed = await startGateway({ REDIS_URL: redis.url, AUTH_TOKEN: TOKEN });
    // Another site (127.0.0.2 is another origin and another site than 127.0.0.1) that tries the gateway's /ws.
    attacker = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><script>
        window.result = new Promise((resolve) => {
          const ws = new WebSocket(${JSON.stringify(`ws://127.0.0.1:${open.port}/ws`)});
          ws.binaryType = 'arraybuffer';
          ws.onopen = () => ws.send(JSON.stringify({ subscribe: 'cam0' }));
          ws.onmessage = (e) => { if (typeof e.data !== 'string') resolve('read a frame'); };
          ws.onclose = (e) => resolve('closed ' + e.code);
        });
      </script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.2', resolve));
    attackerUrl = `http://127.0.0.2:${(attacker.address() as AddressInfo).port}/`;
    // Another port of the gateway's own host: another origin, but the same site, so the browser sends it the
    // token cookie. It embeds the camera as <img>; ?token=1 puts the token in the URLs (legitimate embedding).
    sibling = http.createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ? `?token=${TOKEN}` : '';
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html>
        <img id="stream" src="http://127.0.0.1:${authed.port}/stream/cam0${q}">
        <img id="snapshot" src="http://127.0.0.1:${authed.port}/snapshot/cam0${q}">
        <script>
          const settle = (img) => new Promise((resolve) => {
            const done = () => resolve(img.naturalWidth > 0 ? 'loaded ' + img.naturalWidth + 'x' + img.naturalHeight : 'failed');
            if (img.naturalWidth > 0) return done();
            img.onload = done;
            img.onerror = done;
          });
          window.result = Promise.all([settle(document.getElementById('stream')), settle(document.getElementById('snapshot'))]);
        </script>`);
    });
    await new Promise<void>((resolve) => sibling.listen(0, '127.0.0.1', resolve));
    siblingUrl = `http://127.0.0.1:${(sibling.address() as AddressInfo).port}/`;
    browser = await launchPlaywrightChromium();
  });

  after(async () => {
    await browser?.close();
    attacker?.close();
    sibling?.close();
    await Promise.all([open?.stop(), authed?.stop(), capture?.stop()]);
    await redis?.stop();
  });

  test("a page on another origin cannot open the gateway's /ws; the gateway's own page can", async () => {
    const page = await browser.newPage();
    await page.goto(attackerUrl);
    assert.equal(await page.evaluate(() => (window as unknown as { result: Promise<string> }).result), 'closed 1006');
    // The browser can see the close before the gateway's log line has crossed its stdout pipe to us.
    const refusedLine = /"origin":"http:\/\/127\.0\.0\.2:\d+".*"msg":"websocket refused: origin not allowed"/;
    await waitFor('the refusal in the gateway log', () => refusedLine.test(open.output()), 5000);
    await page.goto(`${open.base}/`);
    await page.waitForFunction(() => [...document.querySelectorAll('figure canvas')].some((c) => (c as HTMLCanvasElement).width > 0), undefined, {
      timeout: 10000,
    });
    await page.close();
  });

  test('/?token=… : the page runs on an HttpOnly cookie, the token leaves the address bar and every URL', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    const referers: Array<Promise<string | null>> = [];
    page.on('request', (r) => {
      requested.push(r.url());
      referers.push(r.headerValue('referer'));
    });
    await page.goto(`${authed.base}/?token=${TOKEN}&view=canvas`);
    await page.waitForFunction(() => [...document.querySelectorAll('figure canvas')].some((c) => (c as HTMLCanvasElement).width > 0), undefined, {
      timeout: 10000,
    });
    assert.equal(page.url(), `${authed.base}/?view=canvas`);
    assert.equal(await page.evaluate(() => document.cookie), '', 'HttpOnly: page script cannot read it');
    const cookies = await context.cookies();
    assert.deepEqual(
      cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
      [['camfan_token', true, 'Strict']],
    );
    await page.goto(`${authed.base}/?view=img`);
    await page.waitForFunction(() => [...document.querySelectorAll('figure img')].some((i) => (i as HTMLImageElement).naturalWidth > 0), undefined, {
      timeout: 10000,
    });
    const withToken = requested.filter((u) => u.includes('token='));
    assert.deepEqual(withToken, [`${authed.base}/?token=${TOKEN}&view=canvas`], 'only the URL the user opened carried the token');
    const sent = (await Promise.all(referers)).filter((r) => r !== null);
    assert.ok(
      requested.some((u) => u.endsWith('/page/main.js')),
      'the page asked for its script',
    );
    assert.deepEqual(sent, [], `Referer headers sent by the page (Referrer-Policy: no-referrer): ${sent.join(', ')}`);
    await context.close();
  });

  test('a page on another port of the same host, with the token cookie set: its <img> of the stream and the snapshot fail; with ?token= they load', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${authed.base}/?token=${TOKEN}`);
    assert.deepEqual(
      (await context.cookies()).map((c) => c.name),
      ['camfan_token'],
    );
    const result = (): Promise<string[]> => page.evaluate(() => (window as unknown as { result: Promise<string[]> }).result);
    await page.goto(siblingUrl);
    assert.deepEqual(await result(), ['failed', 'failed'], 'same-site page riding the cookie');
    await waitFor('the refusal in the gateway log', () => /"site":"same-site".*token cookie refused/.test(authed.output()), 5000);
    await page.goto(`${siblingUrl}?token=1`);
    assert.deepEqual(await result(), ['loaded 160x120', 'loaded 160x120'], 'the same page with ?token= in its URLs');
    await page.goto(`${authed.base}/?view=img`);
    await page.waitForFunction(() => [...document.querySelectorAll('figure img')].some((i) => (i as HTMLImageElement).naturalWidth > 0), undefined, {
      timeout: 10000,
    });
    await context.close();
  });
});
