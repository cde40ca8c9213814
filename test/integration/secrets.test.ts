/**
 * No secret in any message or log of a failed start: every secret setting rejected, a Redis
 * that cannot be reached or refuses the password, run directly and under pm2 (which restarts the process
 * and appends each attempt to its log files). Each output is searched for the secret itself. And a
 * source's credentials (URL userinfo and query, a pipeline's, a file's path) stay in the capture.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cameraEntry, DIST, freePort, makeClip, ROOT, run, startCapture, waitFor } from '../../harness/procs.js';
import { withStack, type RedisHandle } from '../helpers/stack.js';

const GATEWAY = path.join(DIST, 'gateway', 'main.js');
const CAPTURE = path.join(DIST, 'capture', 'main.js');

async function failedStart(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = run(process.execPath, [script], { LOG_LEVEL: 'debug', REDIS_STARTUP_TIMEOUT_MS: '1000', ...env });
  const t = setTimeout(() => void p.stop(), 15000);
  const code = await p.exited;
  clearTimeout(t);
  return { code, out: p.output() };
}

describe('secrets in failed starts', () => {
  test('every rejected secret setting: exit 2, the setting named, the secret nowhere', async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      [GATEWAY, { AUTH_TOKEN: 'short1' }, 'short1'],
      [GATEWAY, { OPERATOR_TOKEN: 'has space-secret' }, 'has space-secret'],
      [GATEWAY, { AUTH_BASIC: 'alice-no-colon-hunter2' }, 'hunter2'],
      [GATEWAY, { CAMERA_TOKENS: 'door=hunter2' }, 'hunter2'],
      [GATEWAY, { REDIS_URL: 'redis://u:hunter2@h:99999' }, 'hunter2'],
      [CAPTURE, { REDIS_URL: 'redis://u:hunter2@h:99999' }, 'hunter2'],
      [CAPTURE, { REDIS_URL: 'http://u:hunter2@h' }, 'hunter2'],
    ];
    for (const [script, env, secret] of cases) {
      const { code, out } = await failedStart(script, env);
      const setting = Object.keys(env)[0]!;
      assert.equal(code, 2, `${setting}: ${out}`);
      assert.match(out, new RegExp(`${setting} \\(--`), out);
      assert.ok(!out.includes(secret), `${setting}: the secret appears in: ${out}`);
    }
  });

  test('Redis unreachable, or refusing the password: exit 2 naming REDIS_URL without its password', async () => {
    const port = await freePort();
    for (const script of [GATEWAY, CAPTURE]) {
      const { code, out } = await failedStart(script, {
        REDIS_URL: `redis://camfan:hunter2-pass@127.0.0.1:${port}`,
        CAMERA_ID: 'cam0',
        CAPTURE_SOURCE: 'test',
      });
      assert.equal(code, 2, out);
      assert.match(out, new RegExp(`REDIS_URL \\(--redis-url\\) = redis://camfan:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
      assert.ok(!out.includes('hunter2-pass'), out);
    }
    const rport = await freePort();
    const redis = run('redis-server', ['--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--requirepass', 'the-real-pass']);
    try {
      await waitFor(
        'redis',
        () =>
          spawnSync('redis-cli', ['-p', String(rport), '-a', 'the-real-pass', '--no-auth-warning', 'ping'])
            .stdout?.toString()
            .trim() === 'PONG',
      );
      const { code, out } = await failedStart(GATEWAY, { REDIS_URL: `redis://:wrong-hunter3@127.0.0.1:${rport}` });
      assert.equal(code, 2, out);
      assert.match(out, /WRONGPASS|NOAUTH|invalid password/i);
      assert.ok(!out.includes('wrong-hunter3'), out);
    } finally {
      await redis.stop();
    }
  });

  describe('under pm2', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'camfan-pm2-secrets-'));
    const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2');
    const env = { ...process.env, PM2_HOME: home };
    const pm2 = (args: string[], extra: NodeJS.ProcessEnv = {}): string => {
      const r = spawnSync(PM2, args, { env: { ...env, ...extra }, cwd: ROOT, encoding: 'utf8', timeout: 60000 });
      if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    after(() => {
      spawnSync(PM2, ['kill'], { env, encoding: 'utf8', timeout: 60000 });
      rmSync(home, { recursive: true, force: true });
    });

    test('restarts after a rejected secret write nothing secret to ~/.pm2/logs', async () => {
      pm2(['start', GATEWAY, '--name', 'camfan-gateway', '--restart-delay', '200'], { AUTH_TOKEN: 'hunter1', PORT: String(await freePort()) });
      pm2(['start', CAPTURE, '--name', 'camfan-capture-cam0', '--restart-delay', '200'], { REDIS_URL: 'redis://u:hunter2@h:99999' });
      await waitFor(
        'each app restarted at least twice',
        () => {
          const apps = JSON.parse(pm2(['jlist'])) as Array<{ pm2_env: { restart_time: number } }>;
          return apps.length === 2 && apps.every((a) => a.pm2_env.restart_time >= 2);
        },
        30000,
        250,
      );
      const logs = readdirSync(path.join(home, 'logs'))
        .map((f) => readFileSync(path.join(home, 'logs', f), 'utf8'))
        .join('\n');
      assert.match(logs, /AUTH_TOKEN \(--auth-token\) = <secret, 7 characters> is invalid/);
      assert.match(logs, /REDIS_URL \(--redis-url\) = "redis:\/\/u:\*\*\*@h:99999" is invalid/);
      for (const secret of ['hunter1', 'hunter2']) assert.ok(!logs.includes(secret), `${secret} is in pm2's logs`);
      assert.ok(!pm2(['logs', '--nostream', '--lines', '200']).includes('hunter'), 'nor in pm2 logs output');
    });
  });
});

describe('secrets never leave the capture', () => {
  let redis: RedisHandle;
  let dir: string;

  const stack = withStack();
  before(() => {
    ({ redis } = stack);
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-redact-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a capture until it has logged `until`, then returns its whole output and what it announced. */
  async function runUntil(id: string, src: string, until: RegExp, env: Record<string, string> = {}): Promise<{ output: string; announced: string }> {
    const cap = startCapture({ REDIS_URL: redis.url, CAMERA_ID: id, CAPTURE_SOURCE: src, RETRY_MAX_MS: '300', OPEN_TIMEOUT_MS: '5000', ...env });
    const c = redis.client();
    try {
      await waitFor(`${id}: ${until}`, () => until.test(cap.output()), 15000);
      const announced = await waitFor(`${id} announced`, async () => {
        const entry = await cameraEntry(c, id);
        return entry && JSON.stringify(entry);
      });
      await cap.stop();
      return { output: cap.output(), announced };
    } finally {
      await cap.stop();
    }
  }

  test('URLs with userinfo and query-string credentials: neither in any log line nor in the announced source', async () => {
    const secrets = ['pwUserinfo77', 'qsPwd1234', 'qsPassword99', 'qsPass5678', 'qsToken-abc', 'qsKey-xyz9'];
    const url = `http://admin:${secrets[0]}@127.0.0.1:9/cgi?pwd=${secrets[1]}&password=${secrets[2]}&pass=${secrets[3]}&token=${secrets[4]}&key=${secrets[5]}`;
    for (const mode of ['auto', 'off']) {
      const { output, announced } = await runUntil(`url-${mode}`, url, /source failed; retrying[\s\S]*source failed; retrying/, { CAPTURE_PASSTHROUGH: mode });
      assert.match(announced, /"source":"stream http:\/\/127\.0\.0\.1:9\/cgi\?…"/);
      for (const s of secrets) assert.ok(!output.includes(s) && !announced.includes(s), `${mode}: ${s} leaked`);
    }
  });

  test('a GStreamer pipeline with rtsp://user:pw@: only element names are announced; the password is in no line', async () => {
    const src = 'gst:rtspsrc location=rtsp://admin:gstRtspPw77@127.0.0.1:9/stream latency=0 ! decodebin ! videoconvert ! appsink';
    const { output, announced } = await runUntil('gst', src, /source failed; retrying|source open hung|source process ended/);
    assert.match(announced, /"source":"GStreamer pipeline rtspsrc ! decodebin ! videoconvert ! appsink"/);
    assert.ok(!output.includes('gstRtspPw77') && !announced.includes('gstRtspPw77'), output);
  });

  test('a file: announced and logged by its base name, not its server path', async () => {
    const secretDir = path.join(dir, 'customer-acme-private');
    mkdirSync(secretDir);
    const clip = path.join(secretDir, 'lobby.avi');
    makeClip(path.join(dir, 'c.avi'), 1, '320x240', 10);
    copyFileSync(path.join(dir, 'c.avi'), clip);
    const { output, announced } = await runUntil('file', clip, /source opened/);
    assert.match(announced, /"source":"file lobby.avi"/);
    assert.ok(!output.includes('customer-acme-private') && !announced.includes('customer-acme-private'), output);
    const missing = startCapture({ REDIS_URL: redis.url, CAMERA_ID: 'nofile', CAPTURE_SOURCE: path.join(secretDir, 'gone.avi') });
    assert.equal(await missing.exited, 2);
    assert.match(missing.output(), /no such file \\"gone.avi\\"/);
    assert.ok(!missing.output().includes('customer-acme-private'));
  });
});
