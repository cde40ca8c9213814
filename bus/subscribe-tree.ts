/**
 * Frames read from replicas of the primary (REDIS_SUBSCRIBE_URL), so the primary's egress is a fixed cost
 * per replica however many gateways read from it: a Redis replica receives every PUBLISH of its primary
 * and delivers it to the clients subscribed on it. The endpoints are tried in order of preference with the
 * primary last. The current one is left for the next healthy one when its subscriber has been down for
 * downMs (killed, unreachable), or when it is a replica whose link to its master has been down for
 * replicaDownMs (it would deliver nothing); the channels are subscribed again there. Every retryPreferredMs the endpoints
 * before the current one are probed, and the first healthy one is taken back. A switch costs viewers the
 * frames of the gap, never freshness: nothing is queued, the next frame published is the next one shown.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/log.js';
import { redactUrl } from '../lib/redact.js';
import type { Subscriber } from './subscriber.js';

export interface SubscribeTreeOptions {
  /** In order of preference, the primary last. */
  urls: readonly string[];
  log: Logger;
  /** A subscriber connection to url that calls the bus's message handler. */
  subscriber: (url: string) => Subscriber;
  /** A command connection to url (GET of latest frames, INFO replication). */
  commands: (url: string, name: string) => Redis;
  downMs?: number;
  replicaDownMs?: number;
  retryPreferredMs?: number;
  checkMs?: number;
}

/** What /readyz and /metrics say about where frames come from. */
export interface SubscribeEndpoint {
  index: number;
  /** Without a password. */
  url: string;
  role: 'master' | 'replica' | 'unknown';
  /** On a replica: its link to its master ('up'/'down'); null elsewhere or not known yet. */
  masterLink: 'up' | 'down' | null;
}

interface Replication {
  role: SubscribeEndpoint['role'];
  masterLink: SubscribeEndpoint['masterLink'];
}

export function parseReplication(info: string): Replication {
  const role = /^role:(\w+)/m.exec(info)?.[1];
  const link = /^master_link_status:(\w+)/m.exec(info)?.[1];
  return {
    role: role === 'master' ? 'master' : role === 'slave' ? 'replica' : 'unknown',
    masterLink: role === 'slave' ? (link === 'up' ? 'up' : 'down') : null,
  };
}

export class SubscribeTree implements Subscriber {
  /** Times the current endpoint was left because it was down. */
  failovers = 0;
  private index = 0;
  private sub: Subscriber;
  private reads: Redis;
  private replication: Replication = { role: 'unknown', masterLink: null };
  private readonly wanted = new Set<string>();
  private downSince: number | null = null;
  private linkDownSince: number | null = null;
  private switchedAt = Date.now();
  private asking = false;
  private probing = false;
  private closed: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: SubscribeTreeOptions) {
    this.sub = o.subscriber(o.urls[0]!);
    this.reads = o.commands(o.urls[0]!, 'camfan-reads');
    this.timer = setInterval(() => this.check(), o.checkMs ?? 250);
    this.timer.unref();
  }

  get status(): string {
    return this.sub.status;
  }

  /** The connection latest frames are read from: the current endpoint's. */
  get commands(): Redis {
    return this.reads;
  }

  endpoint(): SubscribeEndpoint {
    return { index: this.index, url: redactUrl(this.o.urls[this.index]!), ...this.replication };
  }

  subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    return this.sub.subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.wanted.delete(channel);
    await this.sub.unsubscribe(channel);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      this.reads.disconnect();
      await this.sub.close();
    })();
    return this.closed;
  }

  private check(): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.sub.status !== 'ready') {
      this.downSince ??= now;
      if (now - this.downSince >= (this.o.downMs ?? 1000)) return void this.failOver('unreachable');
    } else this.downSince = null;
    this.askReplication();
    if (this.replication.masterLink === 'down') {
      this.linkDownSince ??= now;
      if (now - this.linkDownSince >= (this.o.replicaDownMs ?? 2000)) return void this.failOver('replica lost its master');
    } else this.linkDownSince = null;
    if (this.index > 0 && !this.probing && now - this.switchedAt >= (this.o.retryPreferredMs ?? 10_000)) void this.probePreferred();
  }

  /**
   * To the next endpoint after the current one (wrapping round) that answers and, if a replica, has its
   * master; none: stay and ask again at the next check. During an outage of the primary its replicas keep
   * their subscribers instead of sending them round the list.
   */
  private async failOver(reason: string): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const n = this.o.urls.length;
      for (let step = 1; step < n && !this.closed; step++) {
        const i = (this.index + step) % n;
        if (await this.healthy(this.o.urls[i]!)) return this.moveTo(i, reason);
      }
      // Nowhere better: look again after as long as the trouble took to notice (probes are connections, and logged).
      if (this.downSince !== null) this.downSince = Date.now();
      if (this.linkDownSince !== null) this.linkDownSince = Date.now();
    } finally {
      this.probing = false;
    }
  }

  private askReplication(): void {
    if (this.asking || this.reads.status !== 'ready') return;
    this.asking = true;
    const reads = this.reads;
    reads
      .info('replication')
      .then((info) => {
        if (reads === this.reads) this.replication = parseReplication(info);
      })
      .catch(() => undefined)
      .finally(() => (this.asking = false));
  }

  /** The first endpoint before the current one that answers and, if a replica, has its master: back to it. */
  private async probePreferred(): Promise<void> {
    this.probing = true;
    try {
      for (let i = 0; i < this.index && !this.closed; i++) {
        if (await this.healthy(this.o.urls[i]!)) return this.moveTo(i, 'preferred endpoint healthy again', true);
      }
      this.switchedAt = Date.now(); // not yet: ask again in retryPreferredMs
    } finally {
      this.probing = false;
    }
  }

  private async healthy(url: string): Promise<boolean> {
    const probe = this.o.commands(url, 'camfan-probe');
    try {
      const ready = new Promise<boolean>((resolve) => {
        probe.once('ready', () => resolve(true));
        setTimeout(() => resolve(false), 1000).unref();
      });
      if (!(await ready)) return false;
      const { role, masterLink } = parseReplication(await probe.info('replication'));
      return role === 'master' || masterLink === 'up';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  private moveTo(index: number, reason: string, back = false): void {
    if (this.closed || index === this.index) return;
    const from = this.endpoint().url;
    if (!back) this.failovers++;
    void this.sub.close();
    this.reads.disconnect();
    this.index = index;
    const url = this.o.urls[index]!;
    this.sub = this.o.subscriber(url);
    this.reads = this.o.commands(url, 'camfan-reads');
    this.replication = { role: 'unknown', masterLink: null };
    this.downSince = null;
    this.linkDownSince = null;
    this.switchedAt = Date.now();
    // A refused channel was already reported to its subscriber on the first endpoint.
    for (const channel of this.wanted) this.sub.subscribe(channel).catch(() => undefined);
    this.o.log.warn({ from, to: redactUrl(url), index, reason, channels: this.wanted.size }, 'subscribe endpoint changed');
  }
}
