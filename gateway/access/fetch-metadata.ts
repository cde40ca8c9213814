/**
 * The token cookie and other pages. The cookie is SameSite=Strict, which keeps it from other *sites*, but a
 * page on another port of the same host (or another name under the same registrable domain) is the same
 * site: the browser sends it the cookie, and an <img src=/stream/…> there would load the camera (showing
 * that page whether it is live and its size). Two defences, for the two kinds of browsers:
 *   - the browser says where a request comes from (Fetch Metadata: Sec-Fetch-Site, sent by current
 *     browsers to https:// and loopback origins): a request from another origin's page does not get to use
 *     the cookie, and is refused if the cookie was its only credential (a top-level navigation, a link
 *     followed or a bookmark, shows the response to the user alone and keeps it);
 *   - Cross-Origin-Resource-Policy: same-origin on what the cookie opened, which every current browser
 *     enforces for <img> and other no-cors loads (plain http:// on a LAN included): another origin's page
 *     gets an error instead of the picture.
 * A request without Sec-Fetch-Site (not a browser, or an older one) keeps the cookie; CORP covers the browser.
 * Credentials a page must state itself (?token=, Authorization) are not ambient: whoever holds them may
 * embed the camera anywhere, so those responses say Cross-Origin-Resource-Policy: cross-origin. Origins in
 * CORS_ORIGINS (the Origin header, or for an <img>, which sends none, the Referer's origin: a page can drop
 * its Referer but not forge another origin's) keep the cookie as before.
 */
import type { HttpRequest } from '../http/uws.js';

/** How a browser marked a request (empty strings: not marked). */
export interface FetchMarks {
  site: string;
  mode: string;
  dest: string;
  origin: string;
  referer: string;
}

export function readFetchMarks(req: HttpRequest): FetchMarks {
  return {
    site: req.getHeader('sec-fetch-site'),
    mode: req.getHeader('sec-fetch-mode'),
    dest: req.getHeader('sec-fetch-dest'),
    origin: req.getHeader('origin'),
    referer: req.getHeader('referer'),
  };
}

/** Whether the cookie may authenticate this request, and why. */
export type CookieUse = 'own' | 'listed' | 'refused';

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

function listedOrigin(m: FetchMarks, corsOrigins: readonly string[]): boolean {
  if (corsOrigins.length === 0) return false;
  const origin = m.origin && m.origin !== 'null' ? m.origin : originOf(m.referer);
  return origin !== '' && (corsOrigins.includes('*') || corsOrigins.includes(origin));
}

/**
 * 'own': the gateway's own page, the user (address bar, bookmark, a link followed) or a client that marks
 * nothing; 'listed': a page of CORS_ORIGINS; 'refused': another origin's page.
 */
export function cookieUse(m: FetchMarks, corsOrigins: readonly string[]): CookieUse {
  if (m.site === '' || m.site === 'same-origin' || m.site === 'none') return 'own';
  if (m.mode === 'navigate' && m.dest === 'document') return 'own';
  return listedOrigin(m, corsOrigins) ? 'listed' : 'refused';
}

/**
 * Cross-Origin-Resource-Policy for a response opened by these credentials: same-origin when the cookie
 * opened it from the gateway's own page, same-site for a CORS_ORIGINS page (the cookie reaches same-site
 * pages only), cross-origin when the request named its credentials itself or the gateway is open.
 */
export function resourcePolicy(cookie: CookieUse | null): [string, string] {
  const policy = cookie === 'own' ? 'same-origin' : cookie === 'listed' ? 'same-site' : 'cross-origin';
  return ['Cross-Origin-Resource-Policy', policy];
}
