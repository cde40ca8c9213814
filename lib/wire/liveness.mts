/**
 * How a page tells a live /ws socket from a dead one, defined once for the gateway (gateway/http/ws-heartbeat.ts),
 * the page (gateway/page/client/socket.ts) and the fleet bench's viewers (bench/fleet/loss-client.ts).
 *
 * When a gateway host dies (power, kernel, its link), no FIN or RST reaches the page: the balancer keeps the
 * page's connection open and simply passes nothing on, and TCP would take minutes to notice. So a page that
 * asks for it (/ws?beat=1) gets a beat from the gateway whenever its socket has carried nothing for BEAT_MS,
 * and takes a socket that stays silent past silentLimitMs() as dead: it drops it and connects again, which
 * the balancer sends to a live host. An ES module with no Node imports, served to browsers like the others.
 */

/** The gateway sends a beat on a socket that has carried nothing for this long (frames count, beats too). */
export const BEAT_MS = 250;

/** The beat: a text message the page reads as "still here", and older clients ignore as unknown JSON. */
export const BEAT_MESSAGE = '{"beat":1}';

/** The shortest silence taken as a dead socket: four beats' worth, so one late beat is never fatal. */
export const SILENT_SOCKET_MS = 1000;

/** Before a socket has brought two messages there is no gap to judge it by: a first frame may be slow. */
export const FIRST_MESSAGE_WAIT_MS = 10000;

/**
 * How long this socket may stay silent before it counts as dead: SILENT_SOCKET_MS, or three times the longest
 * of its recent gaps between messages — on a slow link one big frame takes long to arrive whole (the page
 * sees only whole messages), and that is not a dead gateway.
 */
export function silentLimitMs(recentGapsMs: readonly number[]): number {
  if (recentGapsMs.length === 0) return FIRST_MESSAGE_WAIT_MS;
  return Math.max(SILENT_SOCKET_MS, 3 * Math.max(...recentGapsMs));
}

/** The wait before reconnecting: the backoff, spread over ±50 % so that reconnects do not come in a wave. */
export function reconnectDelayMs(backoffMs: number, random: () => number = Math.random): number {
  return Math.round(backoffMs * (0.5 + random()));
}
