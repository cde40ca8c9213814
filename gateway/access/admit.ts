/**
 * Admission, one path for every viewer however it comes (an MJPEG stream, a /ws socket, a camera added to
 * a socket), taken only once the request is known to be worth serving: its credentials (the route's guard
 * or the /ws handshake), its query and, for a camera, that the camera exists. Then MAX_VIEWERS and
 * MAX_VIEWERS_PER_IP (access.ts) for whatever takes a viewer's place, and last the gateway's capacity
 * (MAX_VIEWERS=auto: ops/capacity.ts), so that a refused request never adds to the load projected for the
 * viewers admitted. An admitted viewer holds a Place: released when it goes, it gives back its viewer's
 * place and what is still projected for it.
 */
import type { Capacity, Projection } from '../ops/capacity.js';
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

interface Gate {
  access: Access;
  capacity: Capacity;
}

/** What an admitted viewer holds until it goes. release() may be called more than once. */
export class Place {
  private released = false;

  constructor(
    private readonly gate: Gate,
    private readonly remote: string | undefined,
    private readonly projection: Projection | null,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.remote !== undefined) this.gate.access.release(this.remote);
    if (this.projection !== null) this.gate.capacity.giveBack(this.projection);
  }
}

/** The refusal, or the viewer's Place. */
export function admit(gate: Gate, who: Applicant): HttpRefusal | Place {
  const { access, capacity } = gate;
  if (who.rate === undefined && capacity.full) return REFUSALS.saturated;
  if (who.remote !== undefined) {
    const admission = access.admit(who.remote);
    if (admission === 'max_viewers') return REFUSALS.maxViewers;
    if (admission === 'max_viewers_per_ip') return REFUSALS.maxViewersPerIp;
  }
  const projection = who.rate === undefined ? null : capacity.admit(who.rate);
  if (who.rate !== undefined && projection === null) {
    if (who.remote !== undefined) access.release(who.remote);
    return REFUSALS.saturated;
  }
  return new Place(gate, who.remote, projection);
}
