/**
 * Requests a second per client address (REQUEST_RATE_PER_IP, bursts of REQUEST_BURST_PER_IP): a token
 * bucket per address, taken by every HTTP request and /ws handshake in the routes' one pre-step. Refusing is
 * cheap but not free: one keep-alive connection sending 9,400 requests a second kept a gateway's event loop
 * busy answering them. Past its bucket an address gets 429 request_rate and its connection is closed, so a
 * flood must pay for a new TCP connection per burst (what it had pipelined on that one is refused too). The
 * client address is the one TRUSTED_PROXIES allows (client-address.ts); IPv6 addresses share a bucket per
 * /64, the block one host is usually given, so an attacker cannot rotate through its own block.
 */

/** Past this many addresses tracked, full buckets are forgotten at once (they hold nothing to remember). */
const MAX_TRACKED = 100_000;
/** Full buckets are swept this often (ms). */
const SWEEP_MS = 10_000;

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

export interface RequestRateOptions {
  /** Requests a second an address may keep up (0: no limit). */
  perSecond: number;
  /** Requests an address may make at once from a full bucket. */
  burst: number;
}

export class RequestRate {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = performance.now();

  constructor(private readonly o: RequestRateOptions) {}

  get enabled(): boolean {
    return this.o.perSecond > 0;
  }

  /** One request from `address`: true if its bucket had a token (the request goes on). */
  take(address: string, now = performance.now()): boolean {
    if (!this.enabled) return true;
    if (now - this.lastSweep > SWEEP_MS || this.buckets.size > MAX_TRACKED) this.sweep(now);
    const key = bucketKey(address);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.buckets.set(key, { tokens: this.o.burst - 1, at: now });
      return true;
    }
    bucket.tokens = Math.min(this.o.burst, bucket.tokens + ((now - bucket.at) * this.o.perSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Addresses tracked now (for tests and stats). */
  get tracked(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.o.perSecond) / 1000 >= this.o.burst) this.buckets.delete(key);
    }
  }
}

/** An IPv4 address as it is; an IPv6 address by its /64 (the first four groups of its full form). */
export function bucketKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
