/**
 * An HTTP "camera" that attacks its capture, one attack per path (the malicious camera of the security
 * issue's item 6). Written on raw sockets, since no well-behaved HTTP server would send these answers.
 * Each attack runs until the capture hangs up; the server counts the bytes it pushed so a test can show
 * that they were many and the capture's memory stayed flat anyway.
 */
import { createServer, type Server, type Socket } from 'node:net';

export const ATTACKS = [
  /** A response header line that never ends. */
  'endless-header',
  /** A part that claims 1 TB. */
  'huge-length',
  /** Multipart, then bytes that never contain the boundary. */
  'no-boundary',
  /** One part of 500 MB. */
  'big-part',
  /** Parts labelled image/jpeg that are not JPEGs. */
  'not-jpeg',
  /** One byte a second. */
  'trickle',
  /** A redirect to itself, forever. */
  'redirect-loop',
  /** A redirect to another host. */
  'redirect-away',
] as const;
export type Attack = (typeof ATTACKS)[number];

export interface EvilCamera {
  port: number;
  /** Bytes pushed per attack so far. */
  sent: Map<Attack, number>;
  /** Requests received per attack. */
  requests: Map<Attack, number>;
  close(): Promise<void>;
}

const HEAD = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\n\r\n';
const CHUNK = Buffer.alloc(64 * 1024, 0x41);

/**
 * Writes CHUNK at up to 40 MB/s while the socket takes it, until it closes: far more than any camera
 * sends, yet light enough that the test does not load the machine it shares with others.
 */
function pour(sock: Socket, count: (n: number) => void, chunk: Buffer = CHUNK): void {
  const perTick = Math.max(1, Math.round((40 * 2 ** 20) / 100 / chunk.length));
  const timer = setInterval(() => {
    for (let i = 0; i < perTick && !sock.destroyed && sock.writableLength < 4 * chunk.length; i++) {
      count(chunk.length);
      sock.write(chunk);
    }
  }, 10);
  sock.on('close', () => clearInterval(timer));
}

function attack(name: Attack, sock: Socket, port: number, count: (n: number) => void): void {
  const send = (s: string | Buffer): void => {
    count(s.length);
    sock.write(s);
  };
  switch (name) {
    case 'endless-header':
      send('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\nX-Endless: ');
      return pour(sock, count);
    case 'huge-length':
      send(`${HEAD}--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000000000\r\n\r\n`);
      return pour(sock, count);
    case 'no-boundary':
      send(HEAD);
      return pour(sock, count);
    case 'big-part':
      send(`${HEAD}--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 500000000\r\n\r\n\xff\xd8`);
      return pour(sock, count);
    case 'not-jpeg': {
      send(HEAD);
      const part = Buffer.from(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n${'<html>'.repeat(833)}12\r\n`);
      return pour(sock, count, part);
    }
    case 'trickle': {
      const bytes = Buffer.from(`${HEAD}--frame\r\nContent-Type: image/jpeg\r\n\r\n`);
      let i = 1;
      send(bytes.subarray(0, 1));
      const timer = setInterval(() => (sock.destroyed ? clearInterval(timer) : send(bytes.subarray(i, ++i))), 1000);
      sock.on('close', () => clearInterval(timer));
      return;
    }
    case 'redirect-loop':
      send(`HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:${port}/redirect-loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      sock.end();
      return;
    case 'redirect-away':
      send(`HTTP/1.1 302 Found\r\nLocation: http://203.0.113.7/other.mjpg\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      sock.end();
      return;
  }
}

export async function startEvilCamera(): Promise<EvilCamera> {
  const sent = new Map<Attack, number>(ATTACKS.map((a) => [a, 0]));
  const requests = new Map<Attack, number>(ATTACKS.map((a) => [a, 0]));
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined); // the capture hanging up mid-attack is the point
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      const name = /^GET \/([a-z-]+)/.exec(head)?.[1] as Attack | undefined;
      if (!name || !sent.has(name)) return void sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      requests.set(name, requests.get(name)! + 1);
      attack(name, sock, port, (n) => sent.set(name, sent.get(name)! + n));
    };
    sock.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    sent,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
