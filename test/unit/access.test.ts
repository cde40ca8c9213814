/** The pure parts of access control: client address behind proxies, Host and Origin rules, operator verdicts, secrets in setting errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Access, type Credentials } from '../../gateway/access/access.js';
import { addressRangeList, blockListOf, isLocalAddress, resolveClient } from '../../gateway/access/client-address.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { OPEN_ACCESS } from '../helpers/in-memory.js';
import { hostAllowed, hostList, sameOrigin, webSocketOriginAllowed } from '../../gateway/access/origins.js';
import { loadCaptureConfig } from '../../capture/config.js';
import { ConfigError } from '../../lib/settings.js';

const none = { forwardedFor: '', realIp: '' };

test('TRUSTED_PROXIES: forwarded addresses count only from trusted peers, right-most untrusted hop wins', () => {
  const trusted = blockListOf(addressRangeList('127.0.0.1,10.0.0.0/8'));
  assert.deepEqual(resolveClient('203.0.113.9', { forwardedFor: '1.2.3.4', realIp: '' }, trusted), {
    address: '203.0.113.9',
    peer: '203.0.113.9',
    untrustedForward: true,
    viaTrustedProxy: false,
  });
  assert.equal(resolveClient('127.0.0.1', { forwardedFor: '6.6.6.6, 198.51.100.7', realIp: '' }, trusted).address, '198.51.100.7');
  assert.equal(
    resolveClient('127.0.0.1', { forwardedFor: '198.51.100.7, 10.1.2.3', realIp: '' }, trusted).address,
    '198.51.100.7',
    'a second trusted proxy is skipped',
  );
  assert.equal(resolveClient('::ffff:127.0.0.1', { forwardedFor: '', realIp: '192.0.2.1' }, trusted).address, '192.0.2.1');
  assert.equal(resolveClient('127.0.0.1', { forwardedFor: 'garbage', realIp: '' }, trusted).address, '127.0.0.1');
  for (const bad of ['203.0.113.9:5555', '[2001:db8::9]:443', 'unknown', '_hidden']) {
    const c = resolveClient('127.0.0.1', { forwardedFor: `8.8.8.8, ${bad}`, realIp: '9.9.9.9' }, trusted);
    assert.deepEqual([c.address, c.untrustedForward], ['127.0.0.1', true], `${bad}: the proxy's, client unknown; never the left-most`);
  }
  const behindTwo = resolveClient('127.0.0.1', { forwardedFor: '8.8.8.8, unknown, 10.0.0.2', realIp: '' }, trusted);
  assert.deepEqual([behindTwo.address, behindTwo.untrustedForward], ['10.0.0.2', true], 'the last trusted hop before the unreadable entry');
  assert.deepEqual(resolveClient('127.0.0.1', { forwardedFor: '10.0.0.2, 10.0.0.3', realIp: '' }, trusted).address, '10.0.0.2', 'all trusted: the farthest');
  assert.equal(resolveClient('127.0.0.1', { forwardedFor: '', realIp: '', forwarded: 'for=8.8.8.8' }, trusted).untrustedForward, true);
  assert.equal(resolveClient('203.0.113.9', { forwardedFor: '', realIp: '', forwarded: 'for=127.0.0.1' }, trusted).untrustedForward, true);
  assert.equal(resolveClient('203.0.113.9', { forwardedFor: '', realIp: '', via: '1.1 proxy' }, null).untrustedForward, true);
  assert.equal(resolveClient('127.0.0.1', none, null).untrustedForward, false);
  assert.equal(resolveClient('127.0.0.1', { forwardedFor: '192.0.2.1', realIp: '' }, null).untrustedForward, true);
  assert.throws(() => addressRangeList('10.0.0.0/33'), /expected IP addresses or CIDRs/);
  assert.throws(() => addressRangeList('nginx.local'), /expected IP addresses or CIDRs/);
  assert.deepEqual(addressRangeList('fd00::/8')[0], { address: 'fd00::', prefix: 8, family: 'ipv6' });
  for (const a of ['127.0.0.5', '10.1.1.1', '172.20.0.1', '192.168.1.1', '::1', 'fd12::1']) assert.ok(isLocalAddress(a), a);
  for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', 'junk']) assert.ok(!isLocalAddress(a), a);
});

test('ALLOWED_HOSTS and the same-origin rule of /ws', () => {
  const allowed = hostList('camfan.example.com, .lan ,127.0.0.1,[::1]');
  assert.ok(hostAllowed(allowed, 'camfan.example.com:8080'));
  assert.ok(hostAllowed(allowed, 'CAMFAN.example.com'));
  assert.ok(hostAllowed(allowed, 'door.lan') && hostAllowed(allowed, 'lan'));
  assert.ok(hostAllowed(allowed, '[::1]:80') && hostAllowed(allowed, '127.0.0.1:9'));
  assert.ok(!hostAllowed(allowed, 'evil.example') && !hostAllowed(allowed, 'evillan') && !hostAllowed(allowed, ''));
  assert.ok(hostAllowed([], 'anything'));
  assert.throws(() => hostList('camfan.example.com:8080'), /no port/);
  assert.ok(sameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080'));
  assert.ok(sameOrigin('https://cam.example', 'cam.example:443'));
  assert.ok(sameOrigin('https://cam.example', 'cam.example'));
  assert.ok(!sameOrigin('http://127.0.0.1:3000', '127.0.0.1:8080'), 'another port is another origin');
  assert.ok(!sameOrigin('http://127.0.0.1:3000', '127.0.0.1'));
  assert.ok(!sameOrigin('http://evil.example', '127.0.0.1:8080'));
  assert.ok(!sameOrigin('null', '127.0.0.1:8080'));
  assert.ok(webSocketOriginAllowed('', 'x', []), 'no Origin: not a browser');
  assert.ok(webSocketOriginAllowed('https://a.example', 'x', ['https://a.example']));
  assert.ok(webSocketOriginAllowed('https://b.example', 'x', ['*']));
  assert.ok(!webSocketOriginAllowed('https://b.example', 'x', ['https://a.example']));
});

const base = OPEN_ACCESS;
const creds = (authorization = '', token = ''): Credentials => ({ authorization, token, tokenInQuery: false, cookie: null });
const client = (address: string, untrustedForward = false, viaTrustedProxy = false) => ({ address, peer: address, untrustedForward, viaTrustedProxy });

test('operator data: OPERATOR_TOKEN from anywhere, else local addresses (with the gateway-wide credentials when set)', () => {
  const open = new Access(base);
  assert.equal(open.operatorVerdict(creds(), client('127.0.0.1')), 'ok');
  assert.equal(open.operatorVerdict(creds(), client('192.168.1.20')), 'ok');
  assert.equal(open.operatorVerdict(creds(), client('203.0.113.1')), 'forbidden');
  assert.equal(open.operatorVerdict(creds(), client('127.0.0.1', true)), 'forbidden', 'relayed by an untrusted proxy: client unknown');
  const authed = new Access({ ...base, authToken: 'viewer-token-1' });
  assert.equal(authed.operatorVerdict(creds(), client('127.0.0.1')), 'unauthorized');
  assert.equal(authed.operatorVerdict(creds('Bearer viewer-token-1'), client('127.0.0.1')), 'ok');
  const op = new Access({ ...base, authToken: 'viewer-token-1', operatorToken: 'operator-token-1' });
  assert.equal(op.operatorVerdict(creds('Bearer operator-token-1'), client('203.0.113.1')), 'ok');
  assert.equal(op.operatorVerdict(creds('Bearer viewer-token-1'), client('127.0.0.1')), 'unauthorized');
  assert.equal(op.operatorVerdict(creds('', 'operator-token-1'), client('127.0.0.1')), 'unauthorized', 'not in URLs');
  assert.equal(open.refused.operator_address, 2);
});

test('the page trades ?token= for an HttpOnly SameSite cookie (Secure only when a trusted proxy says https)', () => {
  const a = new Access({ ...base, authToken: 'tok;en=1"x' });
  assert.deepEqual(
    new Access(base).tokenCookie({ authorization: '', token: 'whatever-1', tokenInQuery: true, cookie: null }, client('127.0.0.1'), ''),
    [],
    'open mode: no cookie',
  );
  assert.deepEqual(a.tokenCookie(creds(), client('127.0.0.1'), ''), []);
  const [[name, value]] = a.tokenCookie({ authorization: '', token: 'tok;en=1"x', tokenInQuery: true, cookie: null }, client('127.0.0.1'), 'https') as [
    [string, string],
  ];
  assert.equal(name, 'Set-Cookie');
  assert.equal(value, 'camfan_token=tok%3Ben%3D1%22x; Path=/; HttpOnly; SameSite=Strict');
  const query = { authorization: '', token: 'token-123456', tokenInQuery: true, cookie: null };
  assert.match(a.tokenCookie(query, client('198.51.100.1', false, true), 'https')[0]![1], /; Secure$/);
  assert.doesNotMatch(a.tokenCookie(query, client('198.51.100.1', false, false), 'https')[0]![1], /Secure/, 'X-Forwarded-Proto from an untrusted peer');
});

test('a rejected secret is never shown in the error, only described', () => {
  const cases: Array<[NodeJS.ProcessEnv, string, RegExp]> = [
    [{ AUTH_TOKEN: 'short1' }, 'short1', /AUTH_TOKEN \(--auth-token\) = <secret, 6 characters> is invalid: expected a token of 8 to 256/],
    [{ OPERATOR_TOKEN: 'op pass word' }, 'op pass word', /OPERATOR_TOKEN .* = <secret, 12 characters>/],
    [{ AUTH_BASIC: 'alice-hunter2' }, 'hunter2', /AUTH_BASIC .* = <secret, 13 characters> is invalid: expected user:password/],
    [{ CAMERA_TOKENS: 'door=hunter2' }, 'hunter2', /CAMERA_TOKENS .* = <secret, 12 characters>/],
    [{ REDIS_URL: 'redis://u:hunter2@h:99999' }, 'hunter2', /REDIS_URL \(--redis-url\) = "redis:\/\/u:\*\*\*@h:99999" is invalid/],
    [{ REDIS_URL: 'redis://hunter2@h:99999' }, 'hunter2', /REDIS_URL .* = "redis:\/\/\*\*\*@h:99999"/],
    [{ REDIS_URL: 'http://u:hunter2@h' }, 'hunter2', /expected scheme redis:\/\//],
  ];
  for (const [env, secret, re] of cases) {
    assert.throws(
      () => loadGatewayConfig(env, []),
      (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes(secret),
      JSON.stringify(env),
    );
  }
  assert.throws(
    () => loadCaptureConfig({}, ['--redis-url', 'redis://u:pw-in-flag@h:0x']),
    (e: unknown) => e instanceof ConfigError && !e.message.includes('pw-in-flag'),
  );
  assert.throws(() => loadGatewayConfig({ PORT: '70000' }, []), /PORT \(--port\) = "70000"/, 'other settings are still shown');
});
