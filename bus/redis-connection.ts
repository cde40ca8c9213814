/**
 * Where Redis is and how to connect to it: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES,
 * with sharded pub/sub). Connections log each new error once, reconnect with capped backoff forever (a
 * long outage must not become a silent stall), and never show a password.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/log.js';
import { redactUrl } from '../lib/settings.js';

export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; username?: string; password?: string };

export type Connection = Redis | Cluster;

const RETRY_MAX_MS = 1000; // back within about a second of Redis returning
const retry = (times: number): number => Math.min(50 * 2 ** Math.min(times, 5), RETRY_MAX_MS);

/** REDIS_CLUSTER_NODES wins when set; credentials for the cluster come from REDIS_URL's user:password. */
export function redisTarget(url: string, clusterNodes: ReadonlyArray<{ host: string; port: number }>): RedisTarget {
  if (clusterNodes.length === 0) return { kind: 'standalone', url };
  const u = new URL(url);
  return {
    kind: 'cluster',
    nodes: [...clusterNodes],
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

export function describeTarget(t: RedisTarget): string {
  return t.kind === 'standalone' ? redactUrl(t.url) : `cluster ${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

export interface ConnectOptions {
  name: string;
  /** Subscribers queue SUBSCRIBE while (re)connecting; command connections fail fast instead. */
  subscriber: boolean;
  log: Logger;
  isClosing: () => boolean;
  onReconnect?: () => void;
}

export function connect(target: RedisTarget, o: ConnectOptions): Connection {
  const base: RedisOptions = { connectionName: o.name, reconnectOnError: () => true };
  let conn: Connection;
  if (target.kind === 'standalone') {
    conn = new Redis(target.url, {
      ...base,
      retryStrategy: retry,
      enableOfflineQueue: o.subscriber,
      maxRetriesPerRequest: o.subscriber ? null : 1,
    });
  } else {
    const options: ClusterOptions = {
      clusterRetryStrategy: retry,
      enableOfflineQueue: o.subscriber,
      shardedSubscribers: o.subscriber,
      redisOptions: { ...base, maxRetriesPerRequest: o.subscriber ? null : 1, ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) },
    };
    conn = new Cluster(target.nodes, options);
  }
  logEvents(conn, describeTarget(target), o);
  return conn;
}

function logEvents(conn: Connection, where: string, o: ConnectOptions): void {
  let wasReady = false;
  let everReady = false;
  let lastError = '';
  conn.on('ready', () => {
    if (everReady) o.onReconnect?.();
    everReady = true;
    wasReady = true;
    lastError = '';
    o.log.info({ redis: where, connection: o.name }, 'redis connected');
  });
  conn.on('error', (err: Error) => {
    // ioredis emits the same error on every retry: report each new cause once.
    if (err.message !== lastError) o.log.warn({ redis: where, connection: o.name, err: err.message }, 'redis error');
    lastError = err.message;
  });
  conn.on('close', () => {
    if (wasReady && !o.isClosing()) o.log.warn({ redis: where, connection: o.name }, 'redis connection lost, retrying');
    wasReady = false;
  });
}
