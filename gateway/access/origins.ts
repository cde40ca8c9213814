/**
 * Host and Origin checks. ALLOWED_HOSTS defends against DNS rebinding: a page on evil.example whose name
 * is re-pointed at a LAN gateway reaches it with `Host: evil.example`, which is not in the list. The
 * WebSocket Origin check defends against cross-site WebSocket hijacking: browsers apply neither CORS nor
 * (for a site's own cookies on a same-site page) much else to WebSockets, so /ws itself refuses pages
 * from other origins. Both compare against what the browser sent, not what a client claims elsewhere.
 */

/** ALLOWED_HOSTS: host names, comma-separated; `.example.com` also allows every subdomain; `*` any. */
export function hostList(raw: string): string[] {
  return raw.split(',').map((entry) => {
    const v = entry.trim().toLowerCase();
    if (v !== '*' && !/^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v) && !/^\[[0-9a-f:.]+\]$/.test(v)) {
      throw new Error(`expected host names like camfan.example.com,.example.com,127.0.0.1,[::1] (no port), got ${JSON.stringify(entry.trim())}`);
    }
    return v;
  });
}

/** Splits a Host header (or the host part of an Origin) into name and port; port null when absent. */
export function splitHost(raw: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(raw.trim());
  if (!m) return null;
  return { name: m[1]!.toLowerCase(), port: m[2] === undefined ? null : Number(m[2]) };
}

/** Empty list: any host (the default, and the README says why that matters on a LAN). */
export function hostAllowed(allowed: readonly string[], hostHeader: string): boolean {
  if (allowed.length === 0 || allowed.includes('*')) return true;
  const host = splitHost(hostHeader);
  if (!host) return false;
  return allowed.some((a) => (a.startsWith('.') ? host.name === a.slice(1) || host.name.endsWith(a) : host.name === a));
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Same origin, as well as the gateway can tell: the Origin's host name equals the Host header's, and so
 * does the port when the Host header names one (nginx's example passes $host:$server_port). A Host
 * without a port matches an Origin on a default port only, so a page on another port of the same host
 * (same-site for cookies) is still another origin.
 */
export function sameOrigin(origin: string, hostHeader: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  const host = splitHost(hostHeader);
  if (defaultPort === undefined || !host) return false;
  const originPort = url.port === '' ? defaultPort : Number(url.port);
  if (url.hostname.toLowerCase() !== host.name) return false;
  return host.port === null ? originPort === 80 || originPort === 443 : host.port === originPort;
}

/**
 * May a page of this Origin open /ws? No Origin: not a browser (browsers always send one on a
 * WebSocket handshake), so it is treated like any other HTTP client and needs only credentials.
 */
export function webSocketOriginAllowed(origin: string, hostHeader: string, corsOrigins: readonly string[]): boolean {
  if (origin === '') return true;
  if (corsOrigins.includes('*') || corsOrigins.includes(origin)) return true;
  return sameOrigin(origin, hostHeader);
}
