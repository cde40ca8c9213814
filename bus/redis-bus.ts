/**
 * FrameBus over Redis (ioredis): PUBLISH per frame plus SET of the latest frame with a TTL, in one
 * pipeline; one subscriber connection per process with a channel per watched camera. The command
 * connection has no offline queue, so while Redis is down a publish fails at once instead of piling
 * frames up in memory; both connections reconnect by themselves with capped backoff.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/log.js';
import { redactUrl } from '../lib/settings.js';
import type { CameraInfo, FrameBus, FrameHandler, Unsubscribe } from './bus.js';
import { newStats } from './bus.js';
import { channels } from './channels.js';
import { decodeFrame, encodeFrame, type Frame } from './frame.js';

export interface RedisBusOptions {
  url: string;
  log: Logger;
}

const RETRY_MAX_MS = 2000;

function connectionOptions(name: string): RedisOptions {
  return {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), RETRY_MAX_MS),
    // The default (20 reconnects then give up for good) would be a silent stall on a long outage.
    reconnectOnError: () => true,
    lazyConnect: false,
  };
}

export class RedisBus implements FrameBus {
  readonly stats = newStats();
  private readonly commands: Redis;
  private subscriber: Redis | null = null;
  /** Per subscribed channel, what to do with a message. */
  private readonly channelHandlers = new Map<string, (message: Buffer) => void>();
  private readonly frameHandlers = new Map<string, Set<FrameHandler>>();
  private closing: Promise<void> | null = null;

  constructor(private readonly options: RedisBusOptions) {
    this.commands = this.connect('camfan-commands');
  }

  private connect(name: string, overrides: RedisOptions = {}): Redis {
    const { url, log } = this.options;
    const redis = new Redis(url, { ...connectionOptions(name), ...overrides });
    let wasReady = false;
    let lastError = '';
    redis.on('ready', () => {
      wasReady = true;
      lastError = '';
      log.info({ redis: redactUrl(url), connection: name }, 'redis connected');
    });
    redis.on('error', (err: Error) => {
      // ioredis emits the same error on every retry: report each new cause once.
      if (err.message !== lastError) log.warn({ redis: redactUrl(url), connection: name, err: err.message }, 'redis error');
      lastError = err.message;
    });
    redis.on('close', () => {
      if (wasReady && !this.closing) log.warn({ redis: redactUrl(url), connection: name }, 'redis connection lost, retrying');
      wasReady = false;
    });
    return redis;
  }

  async publish(frame: Frame, latestTtlMs: number): Promise<void> {
    const message = encodeFrame(frame);
    try {
      const results = await this.commands
        .multi()
        .set(channels.latest(frame.camera), message, 'PX', latestTtlMs)
        .publish(channels.frames(frame.camera), message)
        .exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');
      this.stats.published++;
    } catch (err) {
      this.stats.publishFailed++;
      throw err;
    }
  }

  private ensureSubscriber(): Redis {
    if (this.subscriber) return this.subscriber;
    // SUBSCRIBE may be sent while (re)connecting: queue it; ioredis re-subscribes by itself after a reconnect.
    const sub = this.connect('camfan-subscriber', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.channelHandlers.get(channel.toString())?.(message));
    this.subscriber = sub;
    return sub;
  }

  private async listen(channel: string, handler: (message: Buffer) => void): Promise<void> {
    this.channelHandlers.set(channel, handler);
    await this.ensureSubscriber().subscribe(channel);
  }

  private async unlisten(channel: string): Promise<void> {
    this.channelHandlers.delete(channel);
    const sub = this.subscriber;
    if (sub?.status === 'ready') await sub.unsubscribe(channel).catch(() => undefined);
  }

  private onFrameMessage(camera: string, message: Buffer): void {
    const set = this.frameHandlers.get(camera);
    if (!set) return;
    let frame: Frame;
    try {
      frame = decodeFrame(message);
      if (frame.camera !== camera) throw new Error('camera id does not match channel');
    } catch (err) {
      this.stats.malformed++;
      if (this.stats.malformed === 1 || this.stats.malformed % 1000 === 0) {
        this.options.log.warn({ camera, err: (err as Error).message, malformed: this.stats.malformed }, 'dropped malformed frame message');
      }
      return;
    }
    this.stats.received++;
    for (const h of set) h(frame);
  }

  async subscribe(camera: string, onFrame: FrameHandler): Promise<Unsubscribe> {
    let set = this.frameHandlers.get(camera);
    if (!set) {
      this.frameHandlers.set(camera, (set = new Set()));
      await this.listen(channels.frames(camera), (message) => this.onFrameMessage(camera, message));
    }
    set.add(onFrame);
    return async () => {
      set.delete(onFrame);
      if (set.size > 0 || this.frameHandlers.get(camera) !== set) return;
      this.frameHandlers.delete(camera);
      await this.unlisten(channels.frames(camera));
    };
  }

  async watchers(camera: string): Promise<number> {
    const reply = (await this.commands.call('PUBSUB', 'NUMSUB', channels.frames(camera))) as [string, number];
    return Number(reply[1]);
  }

  async requestFrames(camera: string): Promise<void> {
    await this.commands.publish(channels.wake(camera), '1');
  }

  async onFramesRequested(camera: string, onRequest: () => void): Promise<Unsubscribe> {
    const channel = channels.wake(camera);
    await this.listen(channel, () => onRequest());
    return () => this.unlisten(channel);
  }

  async latest(camera: string): Promise<Frame | null> {
    const message = await this.commands.getBuffer(channels.latest(camera));
    if (!message) return null;
    try {
      return decodeFrame(message);
    } catch {
      this.stats.malformed++;
      return null;
    }
  }

  async announce(info: CameraInfo): Promise<void> {
    await this.commands.hset(channels.cameras, info.camera, JSON.stringify(info));
  }

  async cameras(): Promise<CameraInfo[]> {
    const all = await this.commands.hgetall(channels.cameras);
    const out: CameraInfo[] = [];
    for (const json of Object.values(all)) {
      try {
        out.push(JSON.parse(json) as CameraInfo);
      } catch {
        this.stats.malformed++;
      }
    }
    return out.sort((a, b) => a.camera.localeCompare(b.camera));
  }

  isReady(): boolean {
    if (this.closing) return false;
    return this.commands.status === 'ready' && (this.subscriber === null || this.subscriber.status === 'ready');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.channelHandlers.clear();
      this.frameHandlers.clear();
      const conns = [this.commands, this.subscriber].filter((c): c is Redis => c !== null);
      await Promise.all(conns.map((c) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect())));
    })();
    return this.closing;
  }
}
