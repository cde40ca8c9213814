/**
 * Who may watch, and how many. Credentials: AUTH_TOKEN (Authorization: Bearer …, ?token= for <img>
 * tags and WebSockets, or the camfan_token cookie the page sets in exchange for ?token=), AUTH_BASIC
 * (user:password), CAMERA_TOKENS that open one camera each, and OPERATOR_TOKEN for /metrics and
 * /api/stats. Secrets are compared in constant time and never logged. Limits: MAX_VIEWERS per gateway
 * process and MAX_VIEWERS_PER_IP, per client address (TRUSTED_PROXIES: client-address.ts). CORS: only
 * origins in CORS_ORIGINS get Access-Control-Allow-Origin. Host names: ALLOWED_HOSTS (origins.ts). The cookie
 * from another origin's page: fetch-metadata.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BlockList } from 'node:net';
import { blockListOf, isLocalAddress, resolveClient, type AddressRange, type ClientAddress } from './client-address.js';
import { cookieUse, readFetchMarks, type CookieUse } from './fetch-metadata.js';
import { hostAllowed, webSocketOriginAllowed } from './origins.js';
import { RequestRate } from './request-rate.js';
import type { HttpRequest, HttpResponse } from '../http/uws.js';

export interface AccessOptions {
  authToken: string;
  authBasic: string;
  cameraTokens: ReadonlyMap<string, string>;
  operatorToken: string;
  corsOrigins: readonly string[];
  allowedHosts: readonly string[];
  trustedProxies: readonly AddressRange[];
  maxViewers: number;
  maxViewersPerIp: number;
  /** REQUEST_RATE_PER_IP and REQUEST_BURST_PER_IP (request-rate.ts). */
  requestRatePerIp: number;
  requestBurstPerIp: number;
}

/** What a request presented, read synchronously (a uWS HttpRequest is gone after the first await). */
export interface Credentials {
  authorization: string;
  /** ?token=, else the camfan_token cookie. */
  token: string;
  /** The token came in the URL: the page trades it for a cookie. */
  tokenInQuery: boolean;
  /**
   * Whether the token is the camfan_token cookie and from whose page (fetch-metadata.ts); null: no cookie
   * taken. 'refused': the cookie came from another origin's page and token is left empty.
   */
  cookie: CookieUse | null;
}

/** The HttpOnly cookie that carries a token once the page has seen it in ?token=. */
export const TOKEN_COOKIE = 'camfan_token';

export type OperatorVerdict = 'ok' | 'unauthorized' | 'forbidden';

export type Admission = 'ok' | 'max_viewers' | 'max_viewers_per_ip';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function sameSecret(given: string, expected: Buffer): boolean {
  return given !== '' && timingSafeEqual(digest(given), expected);
}

function cookieToken(header: string): string {
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return '';
      }
    }
  }
  return '';
}

/** corsOrigins: CORS_ORIGINS, whose pages may use the cookie (fetch-metadata.ts). */
export function readCredentials(req: HttpRequest, corsOrigins: readonly string[]): Credentials {
  const authorization = req.getHeader('authorization');
  const query = req.getQuery('token') ?? '';
  if (query !== '') return { authorization, token: query, tokenInQuery: true, cookie: null };
  const token = cookieToken(req.getHeader('cookie'));
  if (token === '') return { authorization, token, tokenInQuery: false, cookie: null };
  const cookie = cookieUse(readFetchMarks(req), corsOrigins);
  return { authorization, token: cookie === 'refused' ? '' : token, tokenInQuery: false, cookie };
}

/** The client's address (behind TRUSTED_PROXIES: the forwarded one), read synchronously like credentials. */
export function readClient(res: HttpResponse, req: HttpRequest, trusted: BlockList | null): ClientAddress {
  const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
  const headers = {
    forwardedFor: req.getHeader('x-forwarded-for'),
    realIp: req.getHeader('x-real-ip'),
    forwarded: req.getHeader('forwarded'),
    via: req.getHeader('via'),
  };
  return resolveClient(peer, headers, trusted);
}

export class Access {
  readonly open: boolean;
  readonly refused = { auth: 0, max_viewers: 0, max_viewers_per_ip: 0, host: 0, origin: 0, operator_address: 0 };
  /** TRUSTED_PROXIES as a lookup; null when none are trusted. */
  readonly trusted: BlockList | null;
  private readonly token: Buffer | null;
  private readonly operator: Buffer | null;
  private readonly basic: Buffer | null;
  private readonly cameraTokens: Map<string, Buffer>;
  private readonly viewersByIp = new Map<string, number>();
  private viewers = 0;
  private readonly requests: RequestRate;

  constructor(private readonly o: AccessOptions) {
    this.requests = new RequestRate({ perSecond: o.requestRatePerIp, burst: o.requestBurstPerIp });
    this.token = o.authToken ? digest(o.authToken) : null;
    this.basic = o.authBasic ? digest(o.authBasic) : null;
    this.operator = o.operatorToken ? digest(o.operatorToken) : null;
    this.trusted = o.trustedProxies.length > 0 ? blockListOf(o.trustedProxies) : null;
    this.cameraTokens = new Map([...o.cameraTokens].map(([cam, t]) => [cam, digest(t)]));
    this.open = !this.token && !this.basic && this.cameraTokens.size === 0;
  }

  /** CORS_ORIGINS, for readCredentials. */
  get corsOrigins(): readonly string[] {
    return this.o.corsOrigins;
  }

  describe(): string {
    const hosts = this.o.allowedHosts.length ? `hosts: ${this.o.allowedHosts.join(',')}` : 'hosts: any (ALLOWED_HOSTS unset)';
    const proxies = this.o.trustedProxies.length ? `, trusted proxies: ${this.o.trustedProxies.map((r) => `${r.address}/${r.prefix}`).join(',')}` : '';
    const operator = `${this.operator ? 'operator endpoints: OPERATOR_TOKEN' : 'operator endpoints: loopback and private addresses only'}; ${hosts}${proxies}`;
    if (this.open) return `open: no AUTH_TOKEN, AUTH_BASIC or CAMERA_TOKENS set, every client may watch every camera; ${operator}`;
    const kinds = [
      this.token && 'AUTH_TOKEN',
      this.basic && 'AUTH_BASIC',
      this.cameraTokens.size && `CAMERA_TOKENS (${this.cameraTokens.size} cameras)`,
    ].filter(Boolean);
    return `credentials required: ${kinds.join(', ')}; ${operator}`;
  }

  /** Gateway-wide credentials (token or Basic): everything. */
  private isAdmin(c: Credentials): boolean {
    if (this.token) {
      const bearer = /^Bearer (.+)$/i.exec(c.authorization)?.[1] ?? '';
      if (sameSecret(bearer, this.token) || sameSecret(c.token, this.token)) return true;
    }
    if (this.basic && /^Basic /i.test(c.authorization)) {
      const decoded = Buffer.from(c.authorization.slice(6).trim(), 'base64').toString('utf8');
      if (sameSecret(decoded, this.basic)) return true;
    }
    return false;
  }

  private cameraToken(c: Credentials): string {
    return c.token || (/^Bearer (.+)$/i.exec(c.authorization)?.[1] ?? '');
  }

  /** May these credentials watch this camera (or, without a camera, use the page and camera list)? */
  allows(c: Credentials, camera?: string): boolean {
    if (this.open || this.isAdmin(c)) return true;
    const given = this.cameraToken(c);
    if (camera !== undefined) {
      const t = this.cameraTokens.get(camera);
      return t !== undefined && sameSecret(given, t);
    }
    return [...this.cameraTokens.values()].some((t) => sameSecret(given, t));
  }

  /**
   * Operator endpoints (/metrics, /api/stats list viewers' addresses). With OPERATOR_TOKEN set: that token
   * as a Bearer header, from anywhere. Without it: loopback and private client addresses only (a request
   * relayed by a proxy that is not in TRUSTED_PROXIES does not count as local: its client is unknown), and
   * the gateway-wide credentials when AUTH_TOKEN or AUTH_BASIC is set.
   */
  operatorVerdict(c: Credentials, client: ClientAddress): OperatorVerdict {
    if (this.operator) {
      const bearer = /^Bearer (.+)$/i.exec(c.authorization)?.[1] ?? '';
      return sameSecret(bearer, this.operator) ? 'ok' : 'unauthorized';
    }
    if (client.untrustedForward || !isLocalAddress(client.address)) {
      this.refused.operator_address++;
      return 'forbidden';
    }
    return this.token || this.basic ? (this.isAdmin(c) ? 'ok' : 'unauthorized') : 'ok';
  }

  /** ALLOWED_HOSTS (empty: any). */
  hostAllowed(hostHeader: string): boolean {
    if (hostAllowed(this.o.allowedHosts, hostHeader)) return true;
    this.refused.host++;
    return false;
  }

  /** Same origin or CORS_ORIGINS for a WebSocket handshake; no Origin (not a browser) passes. */
  webSocketOriginAllowed(origin: string, hostHeader: string): boolean {
    if (webSocketOriginAllowed(origin, hostHeader, this.o.corsOrigins)) return true;
    this.refused.origin++;
    return false;
  }

  /**
   * The page was opened with a valid ?token=: hand it back as an HttpOnly, SameSite=Strict cookie so the
   * page's own requests need no token in their URLs (the page then strips it from the address bar).
   * Secure when a trusted proxy says the client used HTTPS.
   */
  tokenCookie(c: Credentials, client: ClientAddress, forwardedProto: string): Array<[string, string]> {
    if (!c.tokenInQuery || this.open) return [];
    const secure = client.viaTrustedProxy && forwardedProto === 'https' ? '; Secure' : '';
    return [['Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(c.token)}; Path=/; HttpOnly; SameSite=Strict${secure}`]];
  }

  /** Response headers for a 401. */
  challenge(): Array<[string, string]> {
    return [['WWW-Authenticate', this.basic ? 'Basic realm="camfan", charset="UTF-8"' : 'Bearer realm="camfan"']];
  }

  admit(ip: string): Admission {
    if (this.o.maxViewers > 0 && this.viewers >= this.o.maxViewers) return this.refuse('max_viewers');
    const n = this.viewersByIp.get(ip) ?? 0;
    if (this.o.maxViewersPerIp > 0 && n >= this.o.maxViewersPerIp) return this.refuse('max_viewers_per_ip');
    this.viewers++;
    this.viewersByIp.set(ip, n + 1);
    return 'ok';
  }

  /** One request (or /ws handshake) from this client address against REQUEST_RATE_PER_IP (request-rate.ts). */
  takeRequest(ip: string): boolean {
    return this.requests.take(ip);
  }

  release(ip: string): void {
    this.viewers--;
    const n = (this.viewersByIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.viewersByIp.delete(ip);
    else this.viewersByIp.set(ip, n);
  }

  refuseAuth(): void {
    this.refused.auth++;
  }

  private refuse(reason: Exclude<Admission, 'ok'>): Admission {
    this.refused[reason]++;
    return reason;
  }

  /** CORS headers for an allowed Origin, none otherwise (CORS is off by default). */
  cors(origin: string): Array<[string, string]> {
    if (!origin || this.o.corsOrigins.length === 0) return [];
    if (this.o.corsOrigins.includes('*')) return [['Access-Control-Allow-Origin', '*']];
    return this.o.corsOrigins.includes(origin)
      ? [
          ['Access-Control-Allow-Origin', origin],
          ['Vary', 'Origin'],
        ]
      : [];
  }
}
