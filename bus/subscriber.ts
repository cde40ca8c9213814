/**
 * The subscriber side of the bus: one connection per process that receives the channels it is told to
 * listen to. Two implementations: resp-subscriber.ts speaks RESP itself to one Redis server (REDIS_URL; the
 * frame path's cost, see there), and IoredisSubscriber below lets ioredis do it on a Redis Cluster, where
 * sharded pub/sub needs its slot map, redirections and one connection per shard.
 */
import type { Connection } from './redis-connection.js';
import type { PubSubDialect } from './redis-dialect.js';

export type MessageHandler = (channel: string, message: Buffer) => void;

export interface Subscriber {
  /** 'ready' while connected and delivering; anything else while (re)connecting or closed. */
  readonly status: string;
  /** Resolves once Redis has confirmed the subscription (waits for a connection while there is none). */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Idempotent; no event or message after it resolves. */
  close(): Promise<void>;
}

export class IoredisSubscriber implements Subscriber {
  constructor(
    private readonly conn: Connection,
    private readonly dialect: PubSubDialect,
    onMessage: MessageHandler,
  ) {
    conn.on(dialect.messageEvent, (channel: Buffer, message: Buffer) => onMessage(channel.toString(), message));
  }

  get status(): string {
    return this.conn.status;
  }

  async subscribe(channel: string): Promise<void> {
    await this.dialect.subscribe(this.conn, channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (this.conn.status !== 'ready') return;
    await this.dialect.unsubscribe(this.conn, channel).catch(() => undefined);
  }

  async close(): Promise<void> {
    const c = this.conn;
    await (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect());
  }
}
