/**
 * Zero-transcode capture of an HTTP MJPEG camera, its faults and its redirects (CAPTURE_REDIRECTS), with real
 * parts: an HTTP MJPEG camera (harness/mjpeg-camera.ts) that wants Basic auth and a query-string
 * password, redis-server, capture processes and a gateway read by a real HTTP client. The secrets of a
 * source that stay in the capture: secrets.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { CameraInfo } from '../../bus/bus.js';
import { inspectJpeg } from '../../capture/source/kinds/jpeg.js';
import { fetchJson, openStream, type Part } from '../../harness/mjpeg-client.js';
import { makeJpegs, startCamera, withoutCamfanComment, type FakeCamera } from '../../harness/mjpeg-camera.js';
import { cameraEntry, childPids, startCapture, waitFor, waitForFrames, type Proc } from '../../harness/procs.js';
import { withStack, type GatewayHandle, type RedisHandle } from '../helpers/stack.js';

const BASIC_PW = 'Sup3rSecretPw';
const QUERY_PW = 'QueryPw4242';
const isLive = (p: Part): boolean => !p.jpeg.toString('latin1', 6, 120).includes(' nosignal');

describe('passthrough of an HTTP MJPEG camera', () => {
  let redis: RedisHandle;
  let gateway: GatewayHandle;
  let camera: FakeCamera;
  let jpegs: Buffer[];
  let source: string;

  before(async () => {
    jpegs = makeJpegs(30);
    camera = await startCamera({ jpegs, fps: 15, basic: `admin:${BASIC_PW}`, queryPwd: QUERY_PW });
    source = `http://admin:${BASIC_PW}@127.0.0.1:${camera.port}/videostream.cgi?user=admin&pwd=${QUERY_PW}`;
  });
  const stack = withStack(() => ({ gateways: [{ LIVE_TIMEOUT_MS: '1000' }] }));
  const procs: Proc[] = stack.captures;
  before(() => ({ redis, gateway } = stack));
  after(() => camera?.close());

  const capture = (env: Record<string, string>): Proc => {
    const p = startCapture({ REDIS_URL: redis.url, CAPTURE_SOURCE: source, IDLE_FPS: '0', STALL_TIMEOUT_MS: '1000', RETRY_MAX_MS: '500', ...env });
    procs.push(p);
    return p;
  };
  const info = async (camera: string): Promise<CameraInfo> => {
    const { body } = await fetchJson<{ cameras: CameraInfo[] }>(`${gateway.base}/api/cameras`);
    return body.cameras.find((c) => c.camera === camera)!;
  };
  /** A frame in Redis, and the gateway knows the camera (it refreshes its list every 250 ms): a stream opened now is not a 404. */
  const ready = async (camera: string, timeoutMs = 15000): Promise<void> => {
    await waitForFrames(redis, camera, timeoutMs);
    await waitFor(`the gateway to know ${camera}`, async () => (await info(camera)) !== undefined);
  };

  test("a viewer receives the camera's JPEG bytes unchanged; /api/cameras says passthrough and shows no credential", async () => {
    const cap = capture({ CAMERA_ID: 'ipcam', CAPTURE_WIDTH: 'source', CAPTURE_HEIGHT: 'source', DROP_SAME_FRAMES: 'off' });
    await ready('ipcam');
    const s = openStream(`${gateway.base}/stream/ipcam?framing=classic`);
    await waitFor('20 frames', () => s.count >= 20, 8000);
    s.close();
    assert.deepEqual(s.invalid, []);
    const served = new Map(jpegs.map((j, i) => [j.toString('base64'), i]));
    const indexes = s.parts.map((p) => served.get(withoutCamfanComment(p.jpeg).toString('base64')));
    assert.ok(
      indexes.every((i) => i !== undefined),
      'every frame a viewer received is one the camera sent, byte for byte',
    );
    const steps = indexes.slice(1).map((i, k) => (i! - indexes[k]! + jpegs.length) % jpegs.length);
    assert.ok(steps.filter((d) => d === 1).length >= steps.length - 3, `in the camera's order: ${indexes.join(',')}`);

    const c = await info('ipcam');
    assert.equal(c.mode, 'passthrough');
    // Passed through by the capture process itself: no source process, OpenCV never loaded.
    assert.deepEqual(childPids(cap.child.pid!), [], 'no source process');
    assert.ok(!/opencv/i.test(readFileSync(`/proc/${cap.child.pid}/maps`, 'utf8')), 'OpenCV is not loaded in the capture process');
    assert.equal(c.encodeMsP50, null, 'nothing was encoded');
    assert.deepEqual([c.width, c.height], [640, 360], 'the size read from the JPEG');
    assert.equal(c.source, `stream http://127.0.0.1:${camera.port}/videostream.cgi?…`);
    assert.equal(camera.requests.at(-1)!.authorization, `Basic ${Buffer.from(`admin:${BASIC_PW}`).toString('base64')}`);
    assert.match(camera.requests.at(-1)!.url, new RegExp(`pwd=${QUERY_PW}`));
    const everything = cap.output() + JSON.stringify(await cameraEntry(redis.client(), 'ipcam'));
    for (const secret of [BASIC_PW, QUERY_PW]) assert.ok(!everything.includes(secret), `${secret} appears in the capture's output or Redis`);
  });

  test('anything that asks for another picture transcodes (in a source process): another size, or CAPTURE_PASSTHROUGH=off', async () => {
    const small = capture({ CAMERA_ID: 'small', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '180' });
    const forced = capture({ CAMERA_ID: 'forced', CAPTURE_WIDTH: '640', CAPTURE_HEIGHT: '360', CAPTURE_PASSTHROUGH: 'off' });
    await Promise.all([ready('small'), ready('forced', 20000)]);
    for (const [id, size] of [
      ['small', [320, 180]],
      ['forced', [640, 360]],
    ] as const) {
      const c = await waitFor(`${id} announced with its mode`, async () => ((await info(id))?.mode ? info(id) : null));
      assert.equal(c.mode, 'transcode', id);
      const r = await fetch(`${gateway.base}/snapshot/${id}`);
      const jpeg = withoutCamfanComment(Buffer.from(await r.arrayBuffer()));
      const { width, height } = inspectJpeg(jpeg);
      assert.deepEqual([width, height], size, id);
      assert.ok(!jpegs.some((j) => j.equals(jpeg)), `${id}: encoded by camfan, not the camera's bytes`);
    }
    assert.match(small.output(), /needs OpenCV: handing it to a source process/);
    assert.equal(childPids(small.child.pid!).length, 1, 'the small camera runs in a source process');
    // The source process (OpenCV/FFmpeg for "forced") got the full URL; none of it reaches the output.
    for (const secret of [BASIC_PW, QUERY_PW]) assert.ok(!small.output().includes(secret) && !forced.output().includes(secret), `${secret} leaked`);
  });

  test('a static scene: identical JPEGs from the camera are published about once per KEEPALIVE_MS', async () => {
    const still = await startCamera({ jpegs: [jpegs[0]!], fps: 15 });
    const cap = startCapture({
      REDIS_URL: redis.url,
      CAMERA_ID: 'still',
      CAPTURE_SOURCE: `http://127.0.0.1:${still.port}/`,
      CAPTURE_WIDTH: 'source',
      CAPTURE_HEIGHT: 'source',
      IDLE_FPS: '0',
      KEEPALIVE_MS: '1000',
    });
    try {
      await ready('still');
      const s = openStream(`${gateway.base}/stream/still?framing=classic`);
      const sentBefore = still.sent;
      assert.equal((await s.status).statusCode, 200);
      await new Promise((r) => setTimeout(r, 3000));
      s.close();
      const sent = still.sent - sentBefore;
      console.log(`# static scene: the camera sent ${sent} frames in 3 s, the viewer received ${s.count}`);
      assert.ok(sent >= 35, `the camera sent ${sent} frames`);
      assert.ok(s.count >= 2 && s.count <= 5, `${s.count} frames reached the viewer in 3 s (cached one + keep-alives)`);
      assert.ok(withoutCamfanComment(s.parts.at(-1)!.jpeg).equals(jpegs[0]!));
    } finally {
      await cap.stop();
      await still.close();
    }
  });

  test('a camera that redirects: not followed, logged with its target (redacted), nothing published', async () => {
    const redirector = http.createServer((_req, res) =>
      res.writeHead(302, { location: 'http://admin:RedirPw99@198.51.100.7:8081/elsewhere.mjpg?pwd=RedirQs42' }).end(),
    );
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const cap = capture({ CAMERA_ID: 'moved', CAPTURE_SOURCE: `http://127.0.0.1:${(redirector.address() as { port: number }).port}/` });
    try {
      await waitFor(
        'the redirect logged',
        () => /answered HTTP 302 \(a redirect to http:\/\/198\.51\.100\.7:8081\/elsewhere\.mjpg\?…, not followed: another origin/.test(cap.output()),
        8000,
      );
      assert.equal(await redis.client().exists('camfan:{moved}:latest'), 0, 'nothing published');
      for (const secret of ['RedirPw99', 'RedirQs42']) assert.ok(!cap.output().includes(secret), `${secret} leaked`);
    } finally {
      await cap.stop();
      redirector.close();
    }
  });

  test("CAPTURE_REDIRECTS=same-origin, OpenCV/FFmpeg too: another origin refused, the camera's own followed, a loop bounded; FFmpeg follows none itself", async () => {
    const elsewhere = await startCamera({ jpegs: jpegs.slice(0, 3), fps: 15 });
    const away = `http://127.0.0.1:${elsewhere.port}/live.mjpg?pwd=AwayQs77`;
    const asked: Array<{ path: string; agent: string; status: number }> = [];
    const relay = (res: http.ServerResponse): void => {
      const up = http.get(`http://127.0.0.1:${camera.port}/videostream.cgi?user=admin&pwd=${QUERY_PW}`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${BASIC_PW}`).toString('base64')}` },
      });
      up.on('response', (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
    };
    // /away: to another origin; /old: to /cam on this origin, which relays the camera; /loop: to itself;
    // /lavf: the camera to camfan's probe, but FFmpeg's own request (User-Agent Lavf) sent to another origin.
    const server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      const agent = String(req.headers['user-agent']);
      const to = path === '/away' || (path === '/lavf' && agent.startsWith('Lavf')) ? away : path === '/old' ? '/cam' : path === '/loop' ? '/loop' : null;
      asked.push({ path, agent, status: to ? 302 : 200 });
      if (to) res.writeHead(302, { location: to }).end();
      else relay(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const at = (path: string): string => `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`;
    const ff = { CAPTURE_PASSTHROUGH: 'off', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '180' };
    const caps = {
      away: capture({ CAMERA_ID: 'away', CAPTURE_SOURCE: at('/away'), ...ff }),
      old: capture({ CAMERA_ID: 'old', CAPTURE_SOURCE: at('/old'), ...ff }),
      lavf: capture({ CAMERA_ID: 'lavf', CAPTURE_SOURCE: at('/lavf'), ...ff }),
      loop: capture({ CAMERA_ID: 'loop', CAPTURE_SOURCE: at('/loop') }),
    };
    try {
      const t0 = Date.now();
      await waitForFrames(redis, 'old', 20000);
      console.log(`# a redirect on the camera's own origin, followed by the probe; FFmpeg published after ${Date.now() - t0} ms`);
      assert.match(
        caps.old.output(),
        /"status":302,"to":"http:\/\/127\.0\.0\.1:\d+\/cam","hop":1,"msg":"the camera redirects; following \(CAPTURE_REDIRECTS\)"/,
      );
      const refused = /answered HTTP 302 \(a redirect to http:\/\/127\.0\.0\.1:\d+\/live\.mjpg\?…, not followed: another origin/;
      await waitFor('the redirect to another origin refused, for OpenCV/FFmpeg', () => refused.test(caps.away.output()), 15000);
      await waitFor('the loop bounded', () => /more than 5 redirects in a row \(a loop\?\)/.test(caps.loop.output()), 8000);
      await waitFor("FFmpeg's own request redirected, twice", () => asked.filter((a) => a.path === '/lavf' && a.status === 302).length >= 2, 15000);
      await caps.loop.stop();
      const loops = asked.filter((a) => a.path === '/loop').length;
      const attempts = caps.loop.output().match(/more than 5 redirects in a row/g)!.length;
      console.log(`# a redirect loop: ${loops} requests in ${attempts} attempts`);
      // Each attempt: the camera's URL and 5 redirects, then given up (one cut short by the stop at most).
      assert.ok(loops >= 6 * attempts && loops <= 6 * attempts + 5, `${loops} requests for ${attempts} attempts`);
      assert.deepEqual(elsewhere.requests, [], 'the other origin was never asked, by camfan nor by FFmpeg');
      for (const id of ['away', 'lavf', 'loop']) assert.equal(await redis.client().exists(`camfan:{${id}}:latest`), 0, `${id}: nothing published`);
      const lavf = asked.filter((a) => a.path === '/lavf');
      assert.ok(
        lavf.some((a) => a.agent === 'camfan-capture' && a.status === 200),
        'the probe saw the camera',
      );
      assert.ok(!caps.away.output().includes('AwayQs77') && !caps.lavf.output().includes('AwayQs77'), 'the target redacted');
    } finally {
      await Promise.all(Object.values(caps).map((c) => c.stop()));
      server.closeAllConnections();
      server.close();
      await elsewhere.close();
    }
  });

  test('a server that accepts and never answers: reported and retried, and SIGTERM still ends the capture at once', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/`;
    const cap = startCapture({ REDIS_URL: redis.url, CAMERA_ID: 'silent', CAPTURE_SOURCE: url, STALL_TIMEOUT_MS: '1000', RETRY_MAX_MS: '300' });
    // Waiting much longer than the shutdown deadline for an answer: SIGTERM must not wait for it.
    const patient = startCapture({ REDIS_URL: redis.url, CAMERA_ID: 'silent2', CAPTURE_SOURCE: url, STALL_TIMEOUT_MS: '20000' });
    try {
      await waitFor('the silence reported twice', () => (cap.output().match(/no data from the server for 1000 ms/g) ?? []).length >= 2, 8000);
      for (const p of [cap, patient]) {
        const t0 = Date.now();
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0);
        assert.ok(Date.now() - t0 < 1500, `exited after ${Date.now() - t0} ms`);
        assert.doesNotMatch(p.output(), /forced exit|deadline passed/i);
      }
    } finally {
      await Promise.all([cap.stop(), patient.stop()]);
      for (const sock of sockets) sock.destroy();
      silent.close();
    }
  });

  test('faults: a broken part, an oversized part, a stall and the camera going away are reported and recovered', async () => {
    const cap = capture({ CAMERA_ID: 'faulty', CAPTURE_WIDTH: 'source', CAPTURE_HEIGHT: 'source', MAX_FRAME_BYTES: '1000000' });
    await ready('faulty');
    const s = openStream(`${gateway.base}/stream/faulty?framing=classic`);
    try {
      await waitFor('frames', () => s.count >= 5, 5000);
      const liveAfter = async (what: string, from: number, ms = 6000): Promise<number> => {
        const t0 = Date.now();
        await waitFor(what, () => s.parts.slice(from).filter(isLive).length >= 5, ms, 20);
        return Date.now() - t0;
      };

      camera.sendBrokenPart();
      await waitFor('the broken part reported', () => /not a whole JPEG.*broken part from the camera skipped/.test(cap.output()), 3000);
      await liveAfter('frames after the broken part', s.count);

      camera.sendHugePart(3_000_000);
      await waitFor('the oversized part reported', () => /part of 3\d{6} bytes is larger than MAX_FRAME_BYTES \(1000000\)/.test(cap.output()), 3000);
      await liveAfter('frames after the oversized part', s.count);
      assert.ok(
        s.parts.every((p) => p.jpeg.length < 1_000_000),
        'the oversized part never reached a viewer',
      );

      camera.stall();
      await waitFor('the stall reported', () => /read stalled for 1000 ms|no data from the server for 1000 ms/.test(cap.output()), 5000);
      await waitFor('"no signal" at the viewer', () => s.parts.some((p) => !isLive(p)), 5000);
      const atResume = s.count;
      camera.resume();
      console.log(`# stalled camera: live again ${await liveAfter('frames after the stall', atResume)} ms after it resumed`);

      await camera.goAway();
      await waitFor('the outage reported', () => /ECONNREFUSED|ended the stream|ECONNRESET|socket hang up/.test(cap.output()), 5000);
      const atBack = s.count;
      await camera.back();
      console.log(`# camera gone and back: live again ${await liveAfter('frames after the camera came back', atBack)} ms later`);
      assert.equal(cap.child.exitCode, null, 'the capture never exited');
      assert.deepEqual(s.invalid, []);
      const seqs = s.parts.filter(isLive).map((p) => p.seq!);
      assert.ok(
        seqs.every((n, k) => k === 0 || n > seqs[k - 1]!),
        'sequence numbers only grow',
      );
    } finally {
      s.close();
    }
  });
});
