/**
 * Who may watch, and how many. Credentials: AUTH_TOKEN (Authorization: Bearer …, or ?token= for <img>
 * tags and WebSockets), AUTH_BASIC (user:password), and CAMERA_TOKENS that open one camera each. Secrets
 * are compared in constant time and never logged. Limits: MAX_VIEWERS per gateway process and
 * MAX_VIEWERS_PER_IP. CORS: only origins in CORS_ORIGINS get Access-Control-Allow-Origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from './uws.js';

export interface AccessOptions {
  authToken: string;
  authBasic: string;
  cameraTokens: ReadonlyMap<string, string>;
  corsOrigins: readonly string[];
  maxViewers: number;
  maxViewersPerIp: number;
}

/** What a request presented, read synchronously (a uWS HttpRequest is gone after the first await). */
export interface Credentials {
  authorization: string;
  token: string;
}

export type Admission = 'ok' | 'max_viewers' | 'max_viewers_per_ip';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function sameSecret(given: string, expected: Buffer): boolean {
  return given !== '' && timingSafeEqual(digest(given), expected);
}

export function readCredentials(req: HttpRequest): Credentials {
  return { authorization: req.getHeader('authorization'), token: req.getQuery('token') ?? '' };
}

export class Access {
  readonly open: boolean;
  readonly refused = { auth: 0, max_viewers: 0, max_viewers_per_ip: 0 };
  private readonly token: Buffer | null;
  private readonly basic: Buffer | null;
  private readonly cameraTokens: Map<string, Buffer>;
  private readonly viewersByIp = new Map<string, number>();
  private viewers = 0;

  constructor(private readonly o: AccessOptions) {
    this.token = o.authToken ? digest(o.authToken) : null;
    this.basic = o.authBasic ? digest(o.authBasic) : null;
    this.cameraTokens = new Map([...o.cameraTokens].map(([cam, t]) => [cam, digest(t)]));
    this.open = !this.token && !this.basic && this.cameraTokens.size === 0;
  }

  describe(): string {
    if (this.open) return 'open: no AUTH_TOKEN, AUTH_BASIC or CAMERA_TOKENS set, every client may watch every camera';
    const kinds = [this.token && 'AUTH_TOKEN', this.basic && 'AUTH_BASIC', this.cameraTokens.size && `CAMERA_TOKENS (${this.cameraTokens.size} cameras)`].filter(Boolean);
    return `credentials required: ${kinds.join(', ')}`;
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

  /** Operator endpoints (/metrics, /api/stats): gateway-wide credentials only. */
  allowsOperator(c: Credentials): boolean {
    return this.open || this.isAdmin(c);
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
    return this.o.corsOrigins.includes(origin) ? [['Access-Control-Allow-Origin', origin], ['Vary', 'Origin']] : [];
  }
}
