/**
 * Who is really on the other end. Behind a proxy (nginx) every connection comes from the proxy, so limits
 * (MAX_VIEWERS_PER_IP), logs and /api/stats would all see one address. From the peers listed in
 * TRUSTED_PROXIES, and only from them, the client address is taken from X-Forwarded-For (the right-most
 * entry that is not itself a trusted proxy: the left-most ones are whatever the client chose to send) or,
 * without it, X-Real-IP. Anyone else's forwarding headers are ignored, and make the client unknown.
 */
import { BlockList, isIP } from 'node:net';

export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** uWS reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d. */
export function normalizeAddress(raw: string): string {
  const s = raw.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  return mapped ? mapped[1]! : s;
}

function familyOf(address: string): 'ipv4' | 'ipv6' | null {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
}

/** TRUSTED_PROXIES: addresses or CIDRs, comma-separated (127.0.0.1, 10.0.0.0/8, ::1, fd00::/8). */
export function addressRangeList(raw: string): AddressRange[] {
  return raw.split(',').map((entry) => {
    const text = entry.trim();
    const [addr = '', bits] = text.split('/');
    const address = normalizeAddress(addr);
    const family = familyOf(address);
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!family || !(prefix >= 0 && prefix <= max))
      throw new Error(`expected IP addresses or CIDRs like 127.0.0.1,10.0.0.0/8,fd00::/8, got ${JSON.stringify(text)}`);
    return { address, prefix, family };
  });
}

export function blockListOf(ranges: readonly AddressRange[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  return list;
}

export function inList(list: BlockList, address: string): boolean {
  const family = familyOf(address);
  return family !== null && list.check(address, family);
}

/** Loopback, private (RFC 1918, unique-local) and link-local addresses: "this host or this LAN". */
const LOCAL = blockListOf(addressRangeList('127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,::1/128,fc00::/7,fe80::/10'));

export function isLocalAddress(address: string): boolean {
  return inList(LOCAL, address);
}

export interface ClientAddress {
  /** The client's address: the peer's, or the one a trusted proxy forwarded. */
  address: string;
  /** The TCP peer (the proxy, when there is one). */
  peer: string;
  /**
   * The real client is unknown: the request carries forwarding headers (X-Forwarded-For, X-Real-IP,
   * Forwarded, Via) from a peer not trusted to set them, or a trusted proxy's own entry is not an address.
   */
  untrustedForward: boolean;
  /** The peer is in TRUSTED_PROXIES: its X-Forwarded-* headers count. */
  viaTrustedProxy: boolean;
}

export interface ForwardingHeaders {
  forwardedFor: string;
  realIp: string;
  /** RFC 7239 Forwarded and Via: never read for an address, but they say the request was relayed. */
  forwarded?: string;
  via?: string;
}

/** A bare IPv4 or IPv6 address (no port, no brackets, no "unknown" or obfuscated name), normalized; or null. */
function bareAddress(raw: string): string | null {
  const a = normalizeAddress(raw);
  return familyOf(a) === null ? null : a;
}

/**
 * From a trusted peer, X-Forwarded-For is read from the right: each entry was appended by the hop to its
 * right, so an entry is believed only while every hop to its right is a trusted proxy; the first that is
 * not is the client. An entry that is not a bare address (203.0.113.9:5555, [2001:db8::9]:443, unknown)
 * stops the walk: what lies left of it is the client's own say, so the request is taken as the last
 * trusted hop's (the proxy's) with its client unknown. X-Real-IP counts only without X-Forwarded-For.
 */
export function resolveClient(peerRaw: string, h: ForwardingHeaders, trusted: BlockList | null): ClientAddress {
  const peer = normalizeAddress(peerRaw);
  const forwarded = h.forwardedFor !== '' || h.realIp !== '' || (h.forwarded ?? '') !== '' || (h.via ?? '') !== '';
  if (!trusted || !inList(trusted, peer)) return { address: peer, peer, untrustedForward: forwarded, viaTrustedProxy: false };
  const hops = h.forwardedFor
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (hops.length === 0) {
    // Forwarded or Via alone, or an X-Real-IP that is no address: relayed, from a client we cannot name.
    const realIp = bareAddress(h.realIp);
    const unnamed = realIp === null && (h.realIp.trim() !== '' || (h.forwarded ?? '') !== '' || (h.via ?? '') !== '');
    return { address: realIp ?? peer, peer, untrustedForward: unnamed, viaTrustedProxy: true };
  }
  let last = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = bareAddress(hops[i]!);
    if (hop === null) return { address: last, peer, untrustedForward: true, viaTrustedProxy: true };
    if (!inList(trusted, hop)) return { address: hop, peer, untrustedForward: false, viaTrustedProxy: true };
    last = hop;
  }
  // Every entry is a trusted proxy: the request came from the farthest of them.
  return { address: last, peer, untrustedForward: false, viaTrustedProxy: true };
}
