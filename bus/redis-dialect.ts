/**
 * The pub/sub commands RedisBus speaks, chosen once per bus: classic pub/sub on one server, sharded pub/sub
 * (SPUBLISH/SSUBSCRIBE, Redis >= 7) on a Redis Cluster, where a camera's channel lives on the shard that
 * owns its hash slot, so a gateway only receives the cameras it subscribed to.
 */
import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import type { Connection, RedisTarget } from './redis-connection.js';

export interface PubSubDialect {
  /** The subscriber connection's event carrying (channel, message) as Buffers. */
  readonly messageEvent: 'messageBuffer' | 'smessageBuffer';
  /** Queues a publish in a transaction (the frame and its latest key go together). */
  publishIn(tx: ChainableCommander, channel: string, message: Buffer | string): ChainableCommander;
  publish(conn: Connection, channel: string, message: Buffer | string): Promise<unknown>;
  subscribe(sub: Connection, channel: string): Promise<unknown>;
  unsubscribe(sub: Connection, channel: string): Promise<unknown>;
  /** How many connections are subscribed to the channels (summed), across the deployment. */
  subscribers(conn: Connection, ...channels: string[]): Promise<number>;
}

const classic: PubSubDialect = {
  messageEvent: 'messageBuffer',
  publishIn: (tx, channel, message) => tx.publish(channel, message),
  publish: (conn, channel, message) => conn.publish(channel, message),
  subscribe: (sub, channel) => sub.subscribe(channel),
  unsubscribe: (sub, channel) => sub.unsubscribe(channel),
  subscribers: async (conn, ...channels) => {
    const reply = (await conn.call('PUBSUB', 'NUMSUB', ...channels)) as Array<string | number>;
    return reply.reduce<number>((sum, v, i) => (i % 2 ? sum + Number(v) : sum), 0);
  },
};

const sharded: PubSubDialect = {
  messageEvent: 'smessageBuffer',
  publishIn: (tx, channel, message) => tx.spublish(channel, message),
  publish: (conn, channel, message) => conn.spublish(channel, message),
  subscribe: (sub, channel) => sub.ssubscribe(channel),
  unsubscribe: (sub, channel) => sub.sunsubscribe(channel),
  subscribers: async (conn, ...channels) => {
    // Shard subscribers live on the node that owns the slot; the others answer 0.
    const counts = await Promise.all(primaries(conn).map((n) => n.call('PUBSUB', 'SHARDNUMSUB', ...channels) as Promise<Array<string | number>>));
    return counts.flat().reduce<number>((sum, v, i) => (i % 2 ? sum + Number(v) : sum), 0);
  },
};

/** The servers that hold the data: the one server, or every master of a Redis Cluster (each owns its slots' keys). */
export function primaries(conn: Connection): Redis[] {
  return conn instanceof Cluster ? conn.nodes('master') : [conn];
}

/** Sharded on a Redis Cluster (REDIS_CLUSTER_NODES), classic on one server (REDIS_URL). */
export function dialectFor(target: RedisTarget): PubSubDialect {
  return target.kind === 'cluster' ? sharded : classic;
}
