/**
 * Admission, one path for every viewer however it comes (an MJPEG stream, a /ws socket, a camera added to
 * a socket): first the gateway's capacity (MAX_VIEWERS=auto: capacity.ts), then, for whatever takes a
 * viewer's place, MAX_VIEWERS and MAX_VIEWERS_PER_IP (access.ts). Credentials are checked before, by the
 * route's guard or the /ws handshake. An admitted viewer's place is given back with access.release(remote).
 */
import type { Capacity } from '../ops/capacity.js';
import { REFUSALS, type HttpRefusal } from '../http/refusals.js';
import type { Access } from './access.js';

export interface Applicant {
  /**
   * The frames a second it will take (its camera's rate, or less with a cap), priced against the load.
   * Unknown for a /ws handshake, whose cameras come later: then only a gateway that is full refuses.
   */
  rate?: number;
  /** The client's address, when the applicant takes a viewer's place: a stream or a socket, not a camera added to one. */
  remote?: string;
}

/** The refusal, or null: admitted (and, with remote, holding a place until access.release). */
export function admit(gate: { access: Access; capacity: Capacity }, who: Applicant): HttpRefusal | null {
  const { access, capacity } = gate;
  if (who.rate === undefined ? capacity.full : !capacity.admit(who.rate)) return REFUSALS.saturated;
  if (who.remote === undefined) return null;
  const admission = access.admit(who.remote);
  if (admission === 'max_viewers') return REFUSALS.maxViewers;
  if (admission === 'max_viewers_per_ip') return REFUSALS.maxViewersPerIp;
  return null;
}
