/**
 * How many of this gateway's connections back up now: the link half of capacity (ops/link.ts decides
 * from it). Measured from delivery itself, as the host's NIC is not visible from here: a connection backs
 * up when a frame had to wait because the socket had not taken the one before it (or, with
 * acknowledgements, came back far later than that client's fastest; ws-viewer.ts). One connection that
 * backs up is a slow client, which latest frame wins already serves; most of them at once is this host's
 * link. Counted per connection, not per viewer: a /ws socket carrying a wall of cameras is one client.
 */
import type { Viewer } from './viewer.js';

/**
 * A connection counts as backed up for this long after a frame last waited on it: a camera at 1 fps
 * offers a frame a second, so a shorter window would see a full link only now and then.
 */
export const BACKED_UP_WINDOW_MS = 2000;

export interface Backlog {
  /** Connections carrying at least one viewer. */
  connections: number;
  /** Of those, the ones where a frame waited within BACKED_UP_WINDOW_MS. */
  backedUp: number;
}

/** Once a capacity sample (not per frame): one pass over the viewers. `now` is performance.now(). */
export function countBacklog(viewers: Iterable<Viewer>, now: number): Backlog {
  const seen = new Map<object, boolean>();
  for (const v of viewers) {
    if (v.closed) continue;
    const backedUp = v.backedUpAt !== 0 && now - v.backedUpAt < BACKED_UP_WINDOW_MS;
    seen.set(v.connection, backedUp || seen.get(v.connection) === true);
  }
  let backedUp = 0;
  for (const b of seen.values()) if (b) backedUp++;
  return { connections: seen.size, backedUp };
}
