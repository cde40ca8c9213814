/**
 * What the gateway's uWebSockets.js build (v20.30, @trufflesuite) really does with oversized and non-HTTP
 * input, measured against a real gateway so that the README's "Security and limits" states facts
 * (request and message size limits, slow and idle clients). If a test here fails after a uWS change, update the README with it.
 * - request heads (UWS_HTTP_MAX_HEADERS_SIZE has no effect on this build): a head that arrives in one read
 *   is answered up to about 128 kB; one that arrives in pieces is kept only up to 4 kB, beyond that the
 *   connection is closed without an answer (so whether a 100 kB head is answered depends on how TCP cut it:
 *   on loopback, 64 kB segments);
 * - more header lines than uWS's fixed table (~50) are not answered: the connection idles until uWS's
 *   idle timeout (~10 s) closes it;
 * - a TLS ClientHello, HTTP/1.0 and a request without Host are not answered either, closed the same way.
 * nginx in front (deploy/nginx.conf, large_client_header_buffers) is the guard; test/integration/nginx.test.ts
 * checks it.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startGateway, startRedis, type GatewayHandle, type RedisHandle } from '../../harness/procs.js';

interface RawAnswer {
  /** What came back before the close (empty: no answer at all). */
  text: string;
  /** ms from sending to the server closing the connection. */
  closedAfterMs: number;
}

/** Sends the payload (several pieces: written 50 ms apart, so that they arrive in separate reads). */
function raw(port: number, payload: string | string[], giveUpMs = 20000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    let text = '';
    const pieces = typeof payload === 'string' ? [payload] : payload;
    const c = net.connect(port, '127.0.0.1', () => {
      for (const [i, piece] of pieces.entries()) {
        setTimeout(() => {
          if (c.writable) c.write(piece);
        }, i * 50);
      }
    });
    c.on('data', (d: Buffer) => (text += d.toString('latin1')));
    c.on('error', () => undefined); // a reset is one of the answers we measure
    c.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    setTimeout(() => c.destroy(), giveUpMs).unref();
  });
}

const head = (headers: string[]): string => `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

describe('limits of the HTTP server, measured', () => {
  let redis: RedisHandle;
  let gw: GatewayHandle;

  before(async () => {
    redis = await startRedis();
    // Set as the README used to advise: it changes nothing on this build.
    gw = await startGateway({ REDIS_URL: redis.url, UWS_HTTP_MAX_HEADERS_SIZE: '4096' });
  });

  after(async () => {
    await gw?.stop();
    await redis?.stop();
  });

  test('request heads: 65,000 bytes in one read are answered, over 4 kB in two reads and 200,000 bytes get a close without an answer', async () => {
    // 65,000 bytes fit one loopback segment (64 kB), so they arrive in one read.
    const whole = await raw(gw.port, head([`X-Big: ${'a'.repeat(65000)}`]));
    assert.match(whole.text, /^HTTP\/1\.1 200 OK/, '65,000-byte header in one read');
    const halves = (text: string): string[] => [text.slice(0, text.length >> 1), text.slice(text.length >> 1)];
    const small = await raw(gw.port, halves(head([`X-Big: ${'a'.repeat(3900)}`])));
    assert.match(small.text, /^HTTP\/1\.1 200 OK/, 'a 4 kB head in two reads');
    const split = await raw(gw.port, halves(head([`X-Big: ${'a'.repeat(5000)}`])));
    assert.equal(split.text, '', 'no answer to a 5 kB head that arrives in two reads');
    assert.ok(split.closedAfterMs < 2000, `closed after ${split.closedAfterMs} ms`);
    const big = await raw(gw.port, head([`X-Big: ${'a'.repeat(200000)}`]));
    assert.equal(big.text, '', 'no answer to a 200 kB request head');
    assert.ok(big.closedAfterMs < 2000, `closed after ${big.closedAfterMs} ms`);
  });

  test('too many header lines, a TLS ClientHello, HTTP/1.0 and no Host: no answer, closed by the idle timeout (~10 s)', async () => {
    const hello = new Promise<RawAnswer>((resolve) => {
      const started = Date.now();
      const c = tls.connect({ port: gw.port, host: '127.0.0.1', rejectUnauthorized: false });
      c.on('error', () => resolve({ text: '', closedAfterMs: Date.now() - started }));
      c.on('secureConnect', () => resolve({ text: 'handshake completed', closedAfterMs: Date.now() - started }));
    });
    const [many, clientHello, http10, noHost] = await Promise.all([
      raw(gw.port, head(Array.from({ length: 60 }, (_, i) => `X-H${i}: a`))),
      hello,
      raw(gw.port, 'GET /healthz HTTP/1.0\r\n\r\n'),
      raw(gw.port, 'GET /healthz HTTP/1.1\r\n\r\n'),
    ]);
    for (const [what, a] of Object.entries({ many, clientHello, http10, noHost })) {
      assert.equal(a.text, '', `${what}: no answer`);
      assert.ok(a.closedAfterMs > 3000 && a.closedAfterMs < 15000, `${what}: closed after ${a.closedAfterMs} ms`);
    }
    assert.match((await raw(gw.port, head(Array.from({ length: 40 }, (_, i) => `X-H${i}: a`)))).text, /^HTTP\/1\.1 200 OK/, '40 extra header lines are fine');
  });
});
