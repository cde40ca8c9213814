/** What every HTTP handler gets: the gateway's parts, and the request's context from the pre-step (routes.ts). */
import type { FrameBus } from '../../bus/bus.js';
import type { Logger } from '../../lib/log.js';
import type { Access, Credentials } from '../access/access.js';
import type { Capacity } from '../ops/capacity.js';
import type { CameraHub } from '../delivery/hub.js';
import type { ClientAddress } from '../access/client-address.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { DeliveryObserver } from '../delivery/viewer.js';
import type { Refuser } from './refuser.js';
import type { Headers } from './respond.js';
import type { HttpRequest, HttpResponse } from './uws.js';

export interface HttpOptions {
  hub: CameraHub;
  access: Access;
  metrics: GatewayMetrics;
  capacity: Capacity;
  /** Sends and counts every refusal (refuser.ts). */
  refuser: Refuser;
  observer: DeliveryObserver;
  renditionWidths: readonly number[];
  bus: FrameBus;
  log: Logger;
  defaultCamera: string;
}

export interface Ctx {
  aborted: boolean;
  creds: Credentials;
  client: ClientAddress;
  /** CORS headers for the request's Origin (none unless CORS_ORIGINS allows it). */
  cors: Headers;
  /**
   * Cross-Origin-Resource-Policy for what a route behind credentials answers (access/fetch-metadata.ts:
   * same-origin when the token cookie opened it); none on public and health routes.
   */
  corp: Headers;
  /** The camera a camera route names (checked: a valid id the credentials may watch); '' elsewhere. */
  camera: string;
  /** Runs fn if the client goes away (uWS takes one onAborted per response: the pre-step owns it). */
  onAbort(fn: () => void): void;
}

/** A route's handler (routes.ts); the pre-step has run. */
export type Handler = (res: HttpResponse, req: HttpRequest, ctx: Ctx, o: HttpOptions) => Promise<void> | void;
