/**
 * An IP camera for tests: serves known JPEGs as multipart/x-mixed-replace over HTTP, in order and
 * looping, at a fixed rate, and misbehaves on request (stalls, sends a broken part, goes away). It can
 * require Basic auth and a query-string password, as many cameras do, so a test sees the credentials
 * arrive. The JPEGs are made once by ffmpeg (testsrc2: every frame differs).
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { Socket } from 'node:net';
import { requireTool } from './procs.js';

export function makeJpegs(count: number, size = '640x360'): Buffer[] {
  requireTool('ffmpeg', 'sudo apt-get install -y ffmpeg');
  const r = spawnSync(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${size}:rate=30`,
      '-frames:v',
      String(count),
      '-c:v',
      'mjpeg',
      '-q:v',
      '4',
      '-f',
      'image2pipe',
      '-',
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  const out: Buffer[] = [];
  const all = r.stdout;
  let start = 0;
  // image2pipe concatenates whole JPEGs: split at each EOI followed by the next SOI.
  for (let i = 2; i < all.length - 1; i++) {
    if (all[i] === 0xff && all[i + 1] === 0xd9 && (i + 2 === all.length || (all[i + 2] === 0xff && all[i + 3] === 0xd8))) {
      out.push(Buffer.from(all.subarray(start, i + 2)));
      start = i + 2;
    }
  }
  if (out.length !== count) throw new Error(`expected ${count} JPEGs from ffmpeg, got ${out.length}`);
  return out;
}

export interface CameraOptions {
  jpegs: Buffer[];
  fps: number;
  /** user:password the camera demands as Basic auth, and `pwd` it demands in the query string. */
  basic?: string;
  queryPwd?: string;
}

export interface FakeCamera {
  port: number;
  /** How many frames were written, and each request's Authorization header and URL. */
  sent: number;
  requests: Array<{ authorization: string | undefined; url: string }>;
  /** The next frame goes out as a JPEG cut in half (a broken part). */
  sendBrokenPart(): void;
  /** The next frame goes out as a part of this many bytes (a JPEG padded with zeros: whole, but huge). */
  sendHugePart(bytes: number): void;
  /** Stop writing (connections stay open) until resume(). */
  stall(): void;
  resume(): void;
  /** Close every connection and stop listening; back() listens again on the same port. */
  goAway(): Promise<void>;
  back(): Promise<void>;
  close(): Promise<void>;
}

export async function startCamera(o: CameraOptions): Promise<FakeCamera> {
  const sockets = new Set<Socket>();
  const viewers = new Set<http.ServerResponse>();
  let stalled = false;
  let broken = false;
  let huge = 0;
  let index = 0;
  const server = http.createServer((req, res) => {
    cam.requests.push({ authorization: req.headers.authorization, url: req.url ?? '' });
    const wantAuth = o.basic ? `Basic ${Buffer.from(o.basic).toString('base64')}` : undefined;
    const pwd = new URL(req.url ?? '/', 'http://x').searchParams.get('pwd');
    if ((wantAuth && req.headers.authorization !== wantAuth) || (o.queryPwd && pwd !== o.queryPwd)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cam"' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=--myboundary', 'cache-control': 'no-cache' });
    viewers.add(res);
    res.on('close', () => viewers.delete(res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const tick = setInterval(() => {
    if (stalled || viewers.size === 0) return;
    let jpeg = o.jpegs[index++ % o.jpegs.length]!;
    if (broken) {
      broken = false;
      jpeg = jpeg.subarray(0, jpeg.length >> 1);
    }
    if (huge > 0) {
      // A COM segment can hold 64 kB: zeros after SOI up to the size asked for keep it a JPEG only in name.
      jpeg = Buffer.concat([jpeg.subarray(0, 2), Buffer.alloc(huge), jpeg.subarray(2)]);
      huge = 0;
    }
    const head = Buffer.from(`--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
    for (const v of viewers) v.write(Buffer.concat([head, jpeg, Buffer.from('\r\n')]));
    cam.sent++;
  }, 1000 / o.fps);
  const listen = (port: number): Promise<void> => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as { port: number }).port;
  const drop = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  const cam: FakeCamera = {
    port,
    sent: 0,
    requests: [],
    sendBrokenPart: () => (broken = true),
    sendHugePart: (bytes) => (huge = bytes),
    stall: () => (stalled = true),
    resume: () => (stalled = false),
    goAway: drop,
    back: () => listen(port),
    close: async () => {
      clearInterval(tick);
      if (server.listening) await drop();
    },
  };
  return cam;
}

/** A JPEG as camfan's gateway sends it, without the comment segment it inserts after SOI (gateway/mjpeg.ts). */
export function withoutCamfanComment(jpeg: Buffer): Buffer {
  if (jpeg[2] !== 0xff || jpeg[3] !== 0xfe) return jpeg;
  const len = jpeg.readUInt16BE(4);
  if (!jpeg.toString('latin1', 6, 6 + 7).startsWith('camfan ')) return jpeg;
  return Buffer.concat([jpeg.subarray(0, 2), jpeg.subarray(4 + len)]);
}
