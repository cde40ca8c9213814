/**
 * The subscriber connection to one Redis server (REDIS_URL), speaking RESP itself. Frames are the largest
 * and most frequent thing a gateway reads, and reading them is a fixed cost per process that every viewer's
 * share of CPU carries. Measured on the 2-core bench machine with one 720p camera (30 frames/s of ~90 KB):
 * an ioredis subscriber spends 0.008 cores of user time, a Node stream reading the same bytes 0.005, and a
 * socket that reads into one reused buffer (`onread`) and copies each frame once into a Buffer of its size
 * (resp-reader.ts) 0.0025. At 200 viewers that difference is about 5% of a gateway's CPU per delivered GB.
 *
 * It does what a subscriber needs and nothing more: AUTH with the URL's user and password, CLIENT SETNAME
 * (CLIENT LIST shows it as camfan-subscriber), SUBSCRIBE and UNSUBSCRIBE, TLS for rediss:// (there Node's TLS
 * stream hands over the bytes), reconnecting forever with the bus's capped backoff and subscribing again to
 * every channel. It emits 'ready', 'error' and 'close' as ioredis does, so both are logged the same way.
 * Commands, Redis Cluster and sharded pub/sub stay with ioredis (subscriber.ts).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { RespError, RespProtocolError, RespReader, TooLarge, type RespValue } from './resp-reader.js';
import type { MessageHandler, Subscriber } from './subscriber.js';

/** Large enough that a 90 KB frame usually arrives in one or two reads. */
const READ_BUFFER_BYTES = 256 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
const KEEPALIVE_MS = 30_000;
/** No frame is this large (MAX_FRAME_BYTES is far below): a longer message is skipped, never allocated. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface RespSubscriberOptions {
  /** redis:// or rediss://, with user and password when Redis wants them (the database does not matter to pub/sub). */
  url: string;
  /** PEM of a private CA for rediss://. */
  tlsCa?: string;
  /** The connection's name in CLIENT LIST. */
  name: string;
  onMessage: MessageHandler;
  /** A message over MAX_MESSAGE_BYTES arrived and was skipped. */
  onOversized: (channel: string, bytes: number) => void;
  /** Wait before reconnect attempt n (1, 2, …). */
  retryDelay: (attempt: number) => number;
  /** Longest message accepted (default MAX_MESSAGE_BYTES; tests set less). */
  maxMessageBytes?: number;
}

/** A reply Redis owes: to which command, and for SUBSCRIBE which channel. */
interface Expected {
  command: 'auth' | 'setname' | 'subscribe' | 'unsubscribe' | 'quit';
  channel?: string;
}
interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class RespSubscriber extends EventEmitter implements Subscriber {
  status: 'connecting' | 'ready' | 'reconnecting' | 'end' = 'connecting';
  private socket: net.Socket | null = null;
  /** True once this connection's handshake is written: commands written now follow it. */
  private writable = false;
  private readonly wanted = new Set<string>();
  /** Callers of subscribe() waiting for Redis to confirm their channel. */
  private readonly waiters = new Map<string, Waiter[]>();
  /** The replies owed by Redis, in the order the commands went out (messages are not replies). */
  private expected: Expected[] = [];
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private readonly reader: RespReader;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(private readonly o: RespSubscriberOptions) {
    super();
    this.reader = new RespReader((reply) => this.onReply(reply), o.maxMessageBytes ?? MAX_MESSAGE_BYTES);
    // Like ioredis: connect on the next tick, once the caller has attached its listeners.
    process.nextTick(() => this.connect());
  }

  subscribe(channel: string): Promise<void> {
    if (this.closing) return Promise.resolve();
    const confirmed = new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(channel) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(channel, list);
    });
    this.wanted.add(channel);
    if (this.writable) this.send([['SUBSCRIBE', channel]], [{ command: 'subscribe', channel }]);
    return confirmed;
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.wanted.delete(channel)) return;
    this.settle(channel); // nobody waits for a channel they no longer want
    if (this.writable) this.send([['UNSUBSCRIBE', channel]], [{ command: 'unsubscribe' }]);
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      for (const channel of this.waiters.keys()) this.settle(channel);
      const socket = this.socket;
      if (socket === null) {
        this.status = 'end';
        return resolve();
      }
      const force = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (this.writable) this.send([['QUIT']], [{ command: 'quit' }]);
      socket.end();
    });
    return this.closing;
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.closing) return;
    const url = new URL(this.o.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
    const port = Number(url.port || 6379);
    let socket: net.Socket;
    if (url.protocol === 'rediss:') {
      socket = tls.connect({ host, port, ...(this.o.tlsCa ? { ca: this.o.tlsCa } : {}) });
      socket.on('data', (chunk: Buffer) => this.read(socket, chunk, chunk.length));
    } else {
      const callback = (n: number, buf: Uint8Array): boolean => this.read(socket, buf as Buffer, n);
      const onread = { buffer: this.readBuffer, callback };
      socket = net.connect({ host, port, onread });
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error(`connect ETIMEDOUT ${host}:${port}`)));
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.setKeepAlive(true, KEEPALIVE_MS);
      this.handshake(url);
    });
    socket.on('error', (err) => this.emitError(err));
    socket.on('close', () => this.lost(socket));
  }

  private handshake(url: URL): void {
    const commands: string[][] = [];
    const expected: Expected[] = [];
    const password = decodeURIComponent(url.password);
    if (password) {
      const user = decodeURIComponent(url.username);
      commands.push(user ? ['AUTH', user, password] : ['AUTH', password]);
      expected.push({ command: 'auth' });
    }
    commands.push(['CLIENT', 'SETNAME', this.o.name]);
    expected.push({ command: 'setname' });
    for (const channel of this.wanted) {
      commands.push(['SUBSCRIBE', channel]);
      expected.push({ command: 'subscribe', channel });
    }
    this.writable = true;
    this.send(commands, expected);
  }

  private send(commands: string[][], expected: Expected[]): void {
    let text = '';
    for (const args of commands) {
      text += `*${args.length}\r\n`;
      for (const a of args) text += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    }
    this.expected.push(...expected);
    this.socket!.write(text);
  }

  /** Always true: keep reading (onread's contract). */
  private read(socket: net.Socket, buf: Buffer, n: number): boolean {
    if (socket !== this.socket || this.closing) return true;
    try {
      this.reader.push(buf, 0, n);
    } catch (err) {
      if (!(err instanceof RespProtocolError)) throw err;
      socket.destroy(err); // out of step with Redis: start again on a new connection
    }
    return true;
  }

  private onReply(reply: RespValue): void {
    // After a refused handshake the rest of what this connection sent is void (its commands ran unauthenticated).
    if (this.closing || this.socket === null || this.socket.destroyed) return;
    if (Array.isArray(reply)) return this.onPush(reply);
    const owed = this.expected.shift();
    if (reply instanceof RespError) return this.onErrorReply(owed, reply.message);
    if (owed?.command === 'setname') this.onReady();
  }

  private onPush([kind, channel, payload]: RespValue[]): void {
    if (!Buffer.isBuffer(kind) || !Buffer.isBuffer(channel)) return;
    const name = channel.toString();
    switch (kind.toString('latin1')) {
      case 'message':
        if (payload instanceof TooLarge) this.o.onOversized(name, payload.bytes);
        else if (Buffer.isBuffer(payload) && this.wanted.has(name)) this.o.onMessage(name, payload);
        return;
      case 'subscribe':
        this.expected.shift();
        return this.settle(name);
      case 'unsubscribe':
        this.expected.shift();
        return;
    }
  }

  private onErrorReply(owed: Expected | undefined, message: string): void {
    const err = new Error(message);
    if (owed?.command === 'subscribe' && owed.channel !== undefined) {
      // A SUBSCRIBE refused (NOPERM: the ACL user may not read the channel): its callers hear why.
      this.wanted.delete(owed.channel);
      const list = this.waiters.get(owed.channel) ?? [];
      this.waiters.delete(owed.channel);
      for (const w of list) w.reject(err);
      return;
    }
    this.emitError(err);
    // AUTH or CLIENT SETNAME refused: this connection is no use; try again after the backoff.
    if (owed?.command === 'auth' || owed?.command === 'setname') this.socket?.destroy();
  }

  private onReady(): void {
    this.status = 'ready';
    this.attempts = 0;
    this.emit('ready');
  }

  /** Resolves whoever waits for the channel's confirmation. */
  private settle(channel: string): void {
    const list = this.waiters.get(channel);
    if (!list) return;
    this.waiters.delete(channel);
    for (const w of list) w.resolve();
  }

  private lost(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.writable = false;
    this.expected = [];
    this.reader.reset();
    this.status = this.closing ? 'end' : 'reconnecting';
    this.emit('close');
    if (this.closing) return;
    // Subscribers waiting for a confirmation keep waiting: the next connection subscribes again.
    this.retryTimer = setTimeout(() => this.connect(), this.o.retryDelay(++this.attempts));
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
