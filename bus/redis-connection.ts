/**
 * Where Redis is and how to connect to it: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES,
 * with sharded pub/sub). Connections log each new error once, reconnect with capped backoff forever (a
 * long outage must not become a silent stall), and never show a password.
 */
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/log.js';
import { redactUrl } from '../lib/redact.js';

/** tlsCa: PEM of a private CA for rediss:// (REDIS_TLS_CA); Node's own CA list covers public ones. */
/** commandTimeoutMs: a command not answered this long fails (REDIS_COMMAND_TIMEOUT_MS; none when absent). */
/** subscribeUrls: where frames are read, in order of preference, url (the primary) last (REDIS_SUBSCRIBE_URL). */
export type RedisTarget = (
  | { kind: 'standalone'; url: string; tlsCa?: string; subscribeUrls?: string[] }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; username?: string; password?: string; tls?: boolean; tlsCa?: string }
) & { commandTimeoutMs?: number };

export interface RedisSettings {
  redisUrl: string;
  redisClusterNodes: ReadonlyArray<{ host: string; port: number }>;
  redisTlsCa: string;
  redisCommandTimeoutMs?: number;
  redisSubscribeUrl?: readonly string[];
}

export type Connection = Redis | Cluster;

const RETRY_MAX_MS = 1000; // back within about a second of Redis returning
/** Wait before reconnect attempt `times`; every connection of the bus backs off alike. */
export const retry = (times: number): number => Math.min(50 * 2 ** Math.min(times, 5), RETRY_MAX_MS);

/**
 * REDIS_CLUSTER_NODES wins when set; credentials (and rediss:// for TLS) for the cluster come from
 * REDIS_URL. The settings parser has already checked that REDIS_TLS_CA is readable.
 */
export function redisTarget({
  redisUrl: url,
  redisClusterNodes: clusterNodes,
  redisTlsCa,
  redisCommandTimeoutMs,
  redisSubscribeUrl = [],
}: RedisSettings): RedisTarget {
  const extra = {
    ...(redisTlsCa ? { tlsCa: readFileSync(redisTlsCa, 'utf8') } : {}),
    ...(redisCommandTimeoutMs ? { commandTimeoutMs: redisCommandTimeoutMs } : {}),
  };
  // The primary is the last resort; a list that is only the primary is no tree at all.
  const subscribeUrls = [...redisSubscribeUrl.filter((u) => u !== url), url];
  if (clusterNodes.length === 0) return { kind: 'standalone', url, ...extra, ...(subscribeUrls.length > 1 ? { subscribeUrls } : {}) };
  if (redisSubscribeUrl.length > 0) {
    throw new Error('REDIS_SUBSCRIBE_URL (--redis-subscribe-url) cannot be used with REDIS_CLUSTER_NODES: a Cluster spreads the subscribers over its shards');
  }
  const u = new URL(url);
  return {
    kind: 'cluster',
    nodes: [...clusterNodes],
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: true } : {}),
    ...extra,
  };
}

/** Where to look when Redis cannot be reached: the setting that names it, without a password. */
export function targetSetting(t: RedisTarget): string {
  return t.kind === 'standalone'
    ? `REDIS_URL (--redis-url) = ${redactUrl(t.url)}`
    : `REDIS_CLUSTER_NODES (--redis-cluster-nodes) = ${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

export function describeTarget(t: RedisTarget): string {
  return t.kind === 'standalone' ? redactUrl(t.url) : `cluster ${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

/**
 * ioredis's reconnectOnError: whether an error reply should cost the connection. Only READONLY does: the
 * server we talk to became a replica (a failover), and a new connection finds the new primary. Every other
 * refusal (NOPERM from the ACL, WRONGTYPE from a foreign key, a script error) says nothing about the
 * connection, and reconnecting on it let anyone who can write a key make every process reconnect.
 */
export function reconnectOnError(err: Error): boolean {
  return err.message.startsWith('READONLY');
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
  const useTls = target.kind === 'standalone' ? /^rediss:/i.test(target.url) : target.tls === true;
  const tls = useTls ? { tls: target.tlsCa ? { ca: target.tlsCa } : {} } : {};
  // A frozen Redis (SIGSTOP, a full host) keeps its TCP connections open: without a timeout every command
  // would wait for it. Subscribers are exempt: SUBSCRIBE is queued until Redis answers, then delivery resumes.
  const timeout = !o.subscriber && target.commandTimeoutMs ? { commandTimeout: target.commandTimeoutMs } : {};
  const base: RedisOptions = { connectionName: o.name, reconnectOnError, ...tls, ...timeout };
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
      redisOptions: {
        ...base,
        maxRetriesPerRequest: o.subscriber ? null : 1,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
      },
    };
    conn = new Cluster(target.nodes, options);
  }
  logEvents(conn, describeTarget(target), o);
  return conn;
}

/** Logs a connection's (ioredis or resp-subscriber.ts) life: each new error once, a loss, a return. */
export function logEvents(conn: EventEmitter, where: string, o: ConnectOptions): void {
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

/**
 * Resolves on the connection's first 'ready'. Rejects after timeoutMs with a message naming the setting,
 * so a wrong URL or a Redis that never came up ends the process with a clear reason instead of
 * retrying silently; outages after the first connection are retried forever.
 */
export function firstReady(conn: Connection, target: RedisTarget, timeoutMs: number): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = 'no answer';
    const onError = (err: Error): void => {
      lastError = err.message || err.name;
    };
    const timer = setTimeout(() => {
      conn.off('ready', onReady);
      conn.off('error', onError);
      reject(
        new Error(
          `${targetSetting(target)}: Redis unreachable for ${timeoutMs} ms (REDIS_STARTUP_TIMEOUT_MS; last error: ${lastError}). Start Redis or fix the setting: redis://[user:password@]host:port[/db] or rediss://… for TLS`,
        ),
      );
    }, timeoutMs);
    function onReady(): void {
      clearTimeout(timer);
      conn.off('error', onError);
      resolve();
    }
    conn.once('ready', onReady);
    conn.on('error', onError);
  });
}
