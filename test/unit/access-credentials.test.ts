/**
 * gateway/access/access.ts, the parts access.test.ts does not cover: who may watch what (AUTH_TOKEN, AUTH_BASIC,
 * CAMERA_TOKENS), how credentials are read from a request, viewer limits per process and per address, and
 * CORS headers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Access, readCredentials, type Credentials } from '../../gateway/access/access.js';
import { OPEN_ACCESS } from '../helpers/in-memory.js';
import type { HttpRequest } from '../../gateway/http/uws.js';

const base = OPEN_ACCESS;
const bearer = (token: string): Credentials => ({ authorization: `Bearer ${token}`, token: '', tokenInQuery: false, cookie: null });
const query = (token: string): Credentials => ({ authorization: '', token, tokenInQuery: true, cookie: null });
const basicHeader = (userPass: string): string => `Basic ${Buffer.from(userPass).toString('base64')}`;
const basic = (userPass: string): Credentials => ({ authorization: basicHeader(userPass), token: '', tokenInQuery: false, cookie: null });
const nothing: Credentials = { authorization: '', token: '', tokenInQuery: false, cookie: null };

/** Just the two HttpRequest methods readCredentials uses, answering from plain objects. */
function request(headers: Record<string, string>, params: Record<string, string> = {}): HttpRequest {
  return { getHeader: (name: string) => headers[name] ?? '', getQuery: (name: string) => params[name] } as unknown as HttpRequest;
}

test('open mode: no credentials set, everyone may watch everything', () => {
  const open = new Access(base);
  assert.ok(open.open);
  assert.ok(open.allows(nothing) && open.allows(nothing, 'cam0'));
  assert.match(open.describe(), /^open: /);
});

test('AUTH_TOKEN: as a Bearer header or ?token= (or its cookie); anything else is refused', () => {
  const a = new Access({ ...base, authToken: 'viewer-secret-1' });
  assert.ok(!a.open);
  assert.ok(a.allows(bearer('viewer-secret-1'), 'cam0'));
  assert.ok(a.allows(query('viewer-secret-1'), 'cam0'));
  assert.ok(a.allows({ authorization: 'bearer viewer-secret-1', token: '', tokenInQuery: false, cookie: null }), 'the scheme is case-insensitive');
  for (const c of [nothing, bearer('viewer-secret-2'), bearer('viewer-secret-1 '), query('viewer-secret'), basic('viewer-secret-1:x')]) {
    assert.ok(!a.allows(c, 'cam0'), JSON.stringify(c));
    assert.ok(!a.allows(c), 'nor the page and camera list');
  }
  assert.deepEqual(a.challenge(), [['WWW-Authenticate', 'Bearer realm="camfan"']]);
  assert.match(a.describe(), /^credentials required: AUTH_TOKEN;/);
  assert.doesNotMatch(a.describe(), /viewer-secret/, 'the secret is never shown');
});

test('AUTH_BASIC: user:password in an Authorization: Basic header', () => {
  const a = new Access({ ...base, authBasic: 'alice:pass word:x' });
  assert.ok(a.allows(basic('alice:pass word:x'), 'cam0'), 'the password may hold spaces and colons');
  assert.ok(a.allows({ ...basic('alice:pass word:x'), authorization: basic('alice:pass word:x').authorization.replace('Basic', 'basic') }));
  assert.ok(!a.allows(basic('alice:pass word'), 'cam0'));
  assert.ok(!a.allows(basic('bob:pass word:x'), 'cam0'));
  assert.ok(!a.allows(query('alice:pass word:x'), 'cam0'), 'Basic credentials are not a token');
  assert.deepEqual(a.challenge(), [['WWW-Authenticate', 'Basic realm="camfan", charset="UTF-8"']], 'browsers show a login box');
});

test('CAMERA_TOKENS open one camera each; a gateway-wide token opens them all', () => {
  const a = new Access({
    ...base,
    authToken: 'admin-secret-1',
    cameraTokens: new Map([
      ['door', 'door-secret-1'],
      ['yard', 'yard-secret-1'],
    ]),
  });
  assert.ok(a.allows(query('door-secret-1'), 'door'));
  assert.ok(a.allows(bearer('door-secret-1'), 'door'), 'as a Bearer header too');
  assert.ok(!a.allows(query('door-secret-1'), 'yard'), 'not another camera');
  assert.ok(!a.allows(query('door-secret-1'), 'garage'), 'nor a camera without a token');
  assert.ok(a.allows(query('door-secret-1')), 'the page and the camera list open with any camera token');
  assert.ok(!a.allows(query('nobody-secret')));
  assert.ok(a.allows(query('admin-secret-1'), 'garage'), 'AUTH_TOKEN opens every camera');
  assert.match(a.describe(), /AUTH_TOKEN, CAMERA_TOKENS \(2 cameras\)/);
});

test('credentials are read from the Authorization header, ?token=, or the camfan_token cookie (?token= first)', () => {
  assert.deepEqual(readCredentials(request({ authorization: 'Bearer abc' }), []), {
    authorization: 'Bearer abc',
    token: '',
    tokenInQuery: false,
    cookie: null,
  });
  const fromCookie = readCredentials(request({ cookie: 'a=1; camfan_token=tok%3Ben; b=2' }), []);
  assert.deepEqual(fromCookie, { authorization: '', token: 'tok;en', tokenInQuery: false, cookie: 'own' });
  const both = readCredentials(request({ cookie: 'camfan_token=from-cookie' }, { token: 'from-query' }), []);
  assert.deepEqual(both, { authorization: '', token: 'from-query', tokenInQuery: true, cookie: null });
  assert.equal(readCredentials(request({ cookie: 'xcamfan_token=nope; camfan_tokens=nope' }), []).token, '', 'only the cookie of that exact name');
  assert.equal(readCredentials(request({ cookie: 'camfan_token=%E0%A4%A' }), []).token, '', 'a cookie that does not decode counts as none');
});

test("the cookie from another origin's page (Sec-Fetch-Site) is not taken, unless from a CORS_ORIGINS page or a top-level navigation", () => {
  const cookie = 'camfan_token=tok';
  const from = (headers: Record<string, string>, cors: string[] = []): Credentials => readCredentials(request({ cookie, ...headers }), cors);
  for (const site of ['same-origin', 'none', '']) assert.equal(from({ 'sec-fetch-site': site }).token, 'tok', `Sec-Fetch-Site: ${site || '(none)'}`);
  for (const site of ['same-site', 'cross-site']) {
    const c = from({ 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' });
    assert.deepEqual([c.token, c.cookie], ['', 'refused'], site);
  }
  const navigation = from({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' });
  assert.deepEqual([navigation.token, navigation.cookie], ['tok', 'own'], 'a link followed');
  const framed = from({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' });
  assert.equal(framed.cookie, 'refused', 'a frame in another page is not a navigation of the user');
  const img = { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
  const listed = ['http://127.0.0.1:8081'];
  assert.equal(
    from({ ...img, referer: 'http://127.0.0.1:8081/wall.html' }, listed).cookie,
    'listed',
    "an <img> of a CORS_ORIGINS page, by its Referer's origin",
  );
  assert.equal(from({ ...img, origin: 'http://127.0.0.1:8081' }, listed).cookie, 'listed', 'a fetch() of it, by its Origin');
  assert.equal(from({ ...img, referer: 'http://127.0.0.1:9999/' }, listed).cookie, 'refused', 'another port is another origin');
  assert.equal(from(img, listed).cookie, 'refused', 'no Origin nor Referer: not known to be listed');
  assert.equal(from({ ...img, referer: 'http://evil.test/' }, ['*']).cookie, 'listed', 'CORS_ORIGINS=* lists every origin');
  assert.equal(from({ 'sec-fetch-site': 'cross-site' }, []).cookie, 'refused');
  assert.deepEqual(readCredentials(request({ 'sec-fetch-site': 'cross-site' }, { token: 'q' }), []).token, 'q', '?token= is not ambient: kept');
});

test('MAX_VIEWERS and MAX_VIEWERS_PER_IP: admitted until the limit, counted when refused, freed on release', () => {
  const a = new Access({ ...base, maxViewers: 3, maxViewersPerIp: 2 });
  assert.equal(a.admit('10.0.0.1'), 'ok');
  assert.equal(a.admit('10.0.0.1'), 'ok');
  assert.equal(a.admit('10.0.0.1'), 'max_viewers_per_ip');
  assert.equal(a.admit('10.0.0.2'), 'ok');
  assert.equal(a.admit('10.0.0.3'), 'max_viewers', 'the process limit comes first');
  assert.equal(a.admit('10.0.0.1'), 'max_viewers');
  assert.deepEqual([a.refused.max_viewers, a.refused.max_viewers_per_ip], [2, 1]);
  a.release('10.0.0.1');
  assert.equal(a.admit('10.0.0.3'), 'ok', 'a released place is free again');
  a.release('10.0.0.2');
  a.release('10.0.0.3');
  assert.equal(a.admit('10.0.0.1'), 'ok', 'its second place: one of its viewers is still there');
  assert.equal(a.admit('10.0.0.1'), 'max_viewers_per_ip', 'per address, with room left in the process');
});

test('0 means no limit', () => {
  const a = new Access(base);
  for (let i = 0; i < 1000; i++) assert.equal(a.admit('10.0.0.1'), 'ok');
  assert.deepEqual(a.refused, { auth: 0, max_viewers: 0, max_viewers_per_ip: 0, host: 0, origin: 0, operator_address: 0 });
});

test('CORS: off by default; Access-Control-Allow-Origin only for the listed origins, or * for all', () => {
  assert.deepEqual(new Access(base).cors('https://a.example'), []);
  const listed = new Access({ ...base, corsOrigins: ['https://a.example', 'http://127.0.0.1:3000'] });
  assert.deepEqual(listed.cors('https://a.example'), [
    ['Access-Control-Allow-Origin', 'https://a.example'],
    ['Vary', 'Origin'],
  ]);
  assert.deepEqual(listed.cors('http://127.0.0.1:3000'), [
    ['Access-Control-Allow-Origin', 'http://127.0.0.1:3000'],
    ['Vary', 'Origin'],
  ]);
  assert.deepEqual(listed.cors('https://b.example'), []);
  assert.deepEqual(listed.cors('https://a.example.evil'), [], 'exact origins, not prefixes');
  assert.deepEqual(listed.cors(''), [], 'no Origin header: not a cross-origin request');
  const any = new Access({ ...base, corsOrigins: ['*'] });
  assert.deepEqual(any.cors('https://b.example'), [['Access-Control-Allow-Origin', '*']]);
});

test('refused hosts and WebSocket origins are counted', () => {
  const a = new Access({ ...base, allowedHosts: ['cam.example'], corsOrigins: ['https://a.example'] });
  assert.ok(a.hostAllowed('cam.example:8080'));
  assert.ok(!a.hostAllowed('evil.example'));
  assert.ok(a.webSocketOriginAllowed('https://a.example', 'cam.example'));
  assert.ok(a.webSocketOriginAllowed('http://cam.example', 'cam.example'), 'same origin');
  assert.ok(!a.webSocketOriginAllowed('https://evil.example', 'cam.example'));
  a.refuseAuth();
  assert.deepEqual([a.refused.host, a.refused.origin, a.refused.auth], [1, 1, 1]);
});
