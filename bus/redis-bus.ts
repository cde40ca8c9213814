/**
 * FrameBus over Redis (ioredis): per frame one transaction that stores the latest frame with a TTL and
 * publishes it; one subscriber connection per process with a channel per watched camera. On a Redis
 * Cluster it uses sharded pub/sub (redis-dialect.ts): a camera's channel and keys share a hash slot, so
 * cameras spread over the shards and a gateway only receives the cameras it subscribed to.
 * The command connection has no offline queue: while Redis is down a publish fails at once instead of
 * piling frames up in memory.
 */
import type { Logger } from '../lib/log.js';
import type { CameraInfo, CameraLeases, FrameBus, FrameHandler, Rendition, Unsubscribe } from './bus.js';
import { checkRendition, newStats } from './bus.js';
import { channels, parseWakeMessage, wakeMessage } from './channels.js';
import { decodeFrame, encodeFrame, type Frame } from './frame.js';
import type { Redis } from 'ioredis';
import { RedisCameraList } from './redis-cameras.js';
import { connect, describeTarget, firstReady, logEvents, retry, type ConnectOptions, type Connection, type RedisTarget } from './redis-connection.js';
import { dialectFor, type PubSubDialect } from './redis-dialect.js';
import { RespSubscriber } from './resp-subscriber.js';
import { SubscribeTree, type SubscribeEndpoint } from './subscribe-tree.js';
import { IoredisSubscriber, type Subscriber } from './subscriber.js';

export interface RedisBusOptions {
  target: RedisTarget;
  log: Logger;
}

/** Take or renew a lease in one step: nobody can take it between the read and the write. */
const HOLD_LEASE = `local v = redis.call('get', KEYS[1])
if v == false then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
return 0`;
/** The server's clock for everyone: capture hosts whose clocks differ still agree on who is alive. */
const REGISTER_CAPTURE = `local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
return redis.call('zrange', KEYS[1], 0, -1)`;
const RELEASE_LEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end return 0`;

export class RedisBus implements FrameBus, CameraLeases {
  readonly stats = newStats();
  private readonly commands: Connection;
  private subscriber: Subscriber | null = null;
  /** With REDIS_SUBSCRIBE_URL: the subscriber, reading from replicas, and the primary's count of watchers. */
  private tree: SubscribeTree | null = null;
  private presence: RespSubscriber | null = null;
  /** Classic or sharded pub/sub, chosen once from the target. */
  private readonly dialect: PubSubDialect;
  /** Per subscribed channel, what to do with a message. */
  private readonly channelHandlers = new Map<string, (message: Buffer) => void>();
  private readonly frameHandlers = new Map<string, Set<FrameHandler>>();
  private closing: Promise<void> | null = null;
  private readonly cameraList: RedisCameraList;

  constructor(private readonly options: RedisBusOptions) {
    this.dialect = dialectFor(options.target);
    this.cameraList = new RedisCameraList(options.log, this.stats);
    this.commands = this.connect('camfan-commands', false);
    if (options.target.kind === 'standalone' && options.target.subscribeUrls) this.ensureSubscriber();
  }

  private connectOptions(name: string, subscriber: boolean): ConnectOptions {
    return { name, subscriber, log: this.options.log, isClosing: () => this.closing !== null, onReconnect: () => this.stats.reconnects++ };
  }

  private connect(name: string, subscriber: boolean): Connection {
    return connect(this.options.target, this.connectOptions(name, subscriber));
  }

  async publish(frame: Frame, latestTtlMs: number | null, rendition: Rendition = null): Promise<void> {
    const message = encodeFrame(frame);
    try {
      const tx = this.commands.multi();
      if (latestTtlMs !== null) tx.set(channels.latest(frame.camera, rendition), message, 'PX', latestTtlMs);
      const results = await this.dialect.publishIn(tx, channels.frames(frame.camera, rendition), message).exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');
      this.stats.published++;
    } catch (err) {
      this.stats.publishFailed++;
      throw err;
    }
  }

  private respSubscriber(url: string, name: string): RespSubscriber {
    const target = this.options.target;
    const onMessage = (channel: string, message: Buffer): void => this.channelHandlers.get(channel)?.(message);
    const onOversized = (channel: string, bytes: number): void =>
      this.dropMalformed(channel, new Error(`a ${bytes}-byte message, over the subscriber's limit`));
    const sub = new RespSubscriber({ url, ...(target.tlsCa ? { tlsCa: target.tlsCa } : {}), name, onMessage, onOversized, retryDelay: retry });
    logEvents(sub, describeTarget({ kind: 'standalone', url }), this.connectOptions(name, true));
    return sub;
  }

  /** One server: RESP spoken by resp-subscriber.ts (the frame path's cost); a Cluster: ioredis's sharded subscribers. */
  private ensureSubscriber(): Subscriber {
    if (this.subscriber) return this.subscriber;
    const name = 'camfan-subscriber';
    const target = this.options.target;
    if (target.kind === 'standalone' && target.subscribeUrls) {
      const at = (url: string): RedisTarget => ({ ...target, url });
      this.tree = new SubscribeTree({
        urls: target.subscribeUrls,
        log: this.options.log,
        subscriber: (url) => this.respSubscriber(url, name),
        commands: (url, connection) => connect(at(url), this.connectOptions(connection, false)) as Redis,
      });
      this.presence = this.respSubscriber(target.url, 'camfan-presence');
      this.subscriber = this.tree;
    } else if (target.kind === 'standalone') {
      this.subscriber = this.respSubscriber(target.url, name);
    } else {
      const onMessage = (channel: string, message: Buffer): void => this.channelHandlers.get(channel)?.(message);
      this.subscriber = new IoredisSubscriber(this.connect(name, true), this.dialect, onMessage);
    }
    return this.subscriber;
  }

  private async listen(channel: string, handler: (message: Buffer) => void): Promise<void> {
    this.channelHandlers.set(channel, handler);
    await this.ensureSubscriber().subscribe(channel);
  }

  private async unlisten(channel: string): Promise<void> {
    this.channelHandlers.delete(channel);
    await this.subscriber?.unsubscribe(channel);
  }

  private dropMalformed(where: string, err: Error): void {
    this.stats.malformed++;
    if (this.stats.malformed === 1 || this.stats.malformed % 1000 === 0) {
      this.options.log.warn({ channel: where, err: err.message, malformed: this.stats.malformed }, 'dropped malformed frame message');
    }
  }

  private onFrameMessage(channel: string, camera: string, rendition: Rendition, message: Buffer): void {
    const set = this.frameHandlers.get(channel);
    if (!set) return;
    let frame: Frame;
    try {
      frame = checkRendition(decodeFrame(message), camera, rendition);
    } catch (err) {
      this.dropMalformed(channel, err as Error);
      return;
    }
    this.stats.received++;
    for (const h of set) h(frame);
  }

  async subscribe(camera: string, onFrame: FrameHandler, rendition: Rendition = null): Promise<Unsubscribe> {
    const channel = channels.frames(camera, rendition);
    let set = this.frameHandlers.get(channel);
    if (!set) {
      set = new Set();
      this.frameHandlers.set(channel, set);
      await Promise.all([
        this.listen(channel, (message) => this.onFrameMessage(channel, camera, rendition, message)),
        this.presence?.subscribe(channels.watching(camera, rendition)),
      ]);
    }
    set.add(onFrame);
    return async () => {
      set.delete(onFrame);
      if (set.size > 0 || this.frameHandlers.get(channel) !== set) return;
      this.frameHandlers.delete(channel);
      await Promise.all([this.unlisten(channel), this.presence?.unsubscribe(channels.watching(camera, rendition))]);
    };
  }

  async watchers(camera: string, rendition: Rendition = null): Promise<number> {
    // A gateway reading from a replica is subscribed on the primary to the quiet watching channel instead.
    return this.dialect.subscribers(this.commands, channels.frames(camera, rendition), channels.watching(camera, rendition));
  }

  async requestFrames(camera: string, rendition: Rendition = null): Promise<void> {
    await this.dialect.publish(this.commands, channels.wake(camera), wakeMessage(rendition));
  }

  async onFramesRequested(camera: string, onRequest: (rendition: Rendition) => void): Promise<Unsubscribe> {
    const channel = channels.wake(camera);
    await this.listen(channel, (message) => {
      const rendition = parseWakeMessage(message.toString('latin1'));
      if (rendition !== undefined) onRequest(rendition);
    });
    return () => this.unlisten(channel);
  }

  async holdLease(camera: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.commands.eval(HOLD_LEASE, 1, channels.lease(camera), owner, String(ttlMs))) === 1;
  }

  async releaseLease(camera: string, owner: string): Promise<void> {
    await this.commands.eval(RELEASE_LEASE, 1, channels.lease(camera), owner);
  }

  async registerCapture(owner: string, ttlMs: number): Promise<string[]> {
    const owners = (await this.commands.eval(REGISTER_CAPTURE, 1, channels.captures, owner, String(ttlMs))) as string[];
    return [...owners].sort();
  }

  async unregisterCapture(owner: string): Promise<void> {
    await this.commands.zrem(channels.captures, owner);
  }

  retireCamera(camera: string): Promise<void> {
    return this.cameraList.retire(this.commands, camera);
  }

  async latest(camera: string, rendition: Rendition = null): Promise<Frame | null> {
    const message = await (this.tree?.commands ?? this.commands).getBuffer(channels.latest(camera, rendition));
    if (!message) return null;
    try {
      return checkRendition(decodeFrame(message), camera, rendition);
    } catch {
      this.stats.malformed++;
      return null;
    }
  }

  announce(info: CameraInfo, ttlMs: number): Promise<void> {
    return this.cameraList.announce(this.commands, info, ttlMs);
  }

  cameras(): Promise<CameraInfo[]> {
    // Read where the latest frames are read (a replica, with REDIS_SUBSCRIBE_URL): the primary only takes writes.
    return this.cameraList.list(this.tree?.commands ?? this.commands);
  }

  /** Where frames are read from, with REDIS_SUBSCRIBE_URL; null without. */
  subscribeEndpoint(): (SubscribeEndpoint & { failovers: number }) | null {
    return this.tree ? { ...this.tree.endpoint(), failovers: this.tree.failovers } : null;
  }

  /** A PING within the command timeout (REDIS_COMMAND_TIMEOUT_MS) on top of isReady(). */
  async checkReady(): Promise<boolean> {
    if (!this.isReady()) return false;
    // The command timeout answers first; this timer only covers a bus built without one.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.target.commandTimeoutMs ?? 2000)));
    try {
      return (await Promise.race([this.commands.ping(), late])) === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The first connection to Redis, within timeoutMs (see firstReady). */
  connected(timeoutMs: number): Promise<void> {
    return firstReady(this.commands, this.options.target, timeoutMs);
  }

  isReady(): boolean {
    if (this.closing) return false;
    // A subscriber still making its first connection (it is made at the first watch) is not a lost one, and
    // readiness must not flap when a gateway's first viewer arrives: the commands' connection (and
    // checkReady's PING) say whether Redis answers. One that lost its connection is 'reconnecting'.
    const up = (c: { status: string } | null): boolean => c === null || c.status === 'ready' || c.status === 'connecting';
    return this.commands.status === 'ready' && up(this.presence) && up(this.subscriber);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.channelHandlers.clear();
      this.frameHandlers.clear();
      const c = this.commands;
      await Promise.all([c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect(), this.subscriber?.close(), this.presence?.close()]);
    })();
    return this.closing;
  }
}
