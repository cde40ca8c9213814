/**
 * The baseline the gateway is measured against: a plain Node `net` server that subscribes to the same
 * Redis channel, builds the same part once per frame and writes that one Buffer to every socket (skipping
 * a socket that still has bytes queued). No routing, no HTTP parsing beyond finding the end of the
 * request: the least a Node process can do to fan frames out.
 *   node dist/bench/baseline-server.js <redis-url> <camera> <port>
 */
import { createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { channels } from '../bus/channels.js';
import { decodeFrame } from '../bus/frame.js';
import { FramePacket, STREAM_CONTENT_TYPE } from '../gateway/packet.js';

const [redisUrl, camera, port] = process.argv.slice(2) as [string, string, string];
const RESPONSE_HEAD = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${STREAM_CONTENT_TYPE}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n`);
const sockets = new Set<Socket>();

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let request = '';
  const onData = (d: Buffer): void => {
    request += d.toString('latin1');
    if (!request.includes('\r\n\r\n')) return;
    socket.off('data', onData);
    socket.write(RESPONSE_HEAD);
    sockets.add(socket);
  };
  socket.on('data', onData);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
});

const sub = new Redis(redisUrl);
sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  const part = new FramePacket(decodeFrame(message)).part('classic');
  for (const s of sockets) if (s.writableLength === 0) s.write(part);
});
void sub.subscribe(channels.frames(camera)).then(() => {
  server.listen(Number(port), '127.0.0.1', () => process.send?.('ready') ?? console.log('baseline listening'));
});
process.on('SIGTERM', () => process.exit(0));
