/**
 * Run as a process of its own (node dist/test/helpers/ws-flood.js <port> <sockets> <ms>), so that its
 * writing does not delay the test's own measures: sockets that open /ws, never read a byte and send 1-byte
 * invalid commands as fast as the gateway takes them; each one the gateway closes is opened again 250 ms
 * later, until <ms> have passed. Prints {"closed":N} at the end.
 */
import net from 'node:net';

/** 1-byte text messages (masked, as a client must send them): each is a command that is not JSON. */
const GARBAGE = Buffer.concat(Array.from({ length: 4096 }, () => Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x78 ^ 1])));

function flood(port: number, until: number, closed: { n: number }): void {
  if (Date.now() > until) return;
  const s = net.connect(port, '127.0.0.1', () => {
    s.pause();
    s.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const pump = (): void => {
      while (Date.now() < until && !s.destroyed && s.write(GARBAGE));
      if (Date.now() >= until) s.destroy();
    };
    s.on('drain', pump);
    pump();
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    if (Date.now() < until) closed.n++;
    setTimeout(() => flood(port, until, closed), 250);
  });
}

const [port, sockets, ms] = process.argv.slice(2).map(Number) as [number, number, number];
const closed = { n: 0 };
const until = Date.now() + ms;
for (let i = 0; i < sockets; i++) flood(port, until, closed);
setTimeout(() => console.log(JSON.stringify({ closed: closed.n })), ms + 300);
