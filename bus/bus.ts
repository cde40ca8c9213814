/**
 * The narrow bus between capture and gateways: publish frames, subscribe to one camera's frames,
 * read a camera's latest frame, and announce/list cameras. Implemented over Redis (redis-bus.ts) and
 * in-process for unit tests (memory-bus.ts); test/integration/bus-contract.test.ts runs the same contract on both.
 */
import type { CameraInfo } from '../lib/wire/camera-info.mjs';
import type { Frame } from './frame.js';
import type { SubscribeEndpoint } from './subscribe-tree.js';

// Defined with the page, which reads the same entries from /api/cameras.
export type { CameraInfo, RenditionInfo } from '../lib/wire/camera-info.mjs';

/**
 * Which picture of a camera: null for the camera's own size, else the width of one of its renditions
 * (RENDITION_WIDTHS), scaled with the camera's aspect ratio and encoded once by its capture.
 */
export type Rendition = number | null;

export type FrameHandler = (frame: Frame) => void;
export type Unsubscribe = () => Promise<void>;

export interface BusStats {
  published: number;
  publishFailed: number;
  received: number;
  malformed: number;
  /** Camera-list entries skipped because they were not valid camera records (bus/camera-info.ts). */
  invalidCameraEntries: number;
  /** Times a Redis connection came back after being lost. */
  reconnects: number;
}

export interface FrameBus {
  /**
   * Publishes the frame and, unless latestTtlMs is null, stores it as the camera's (or rendition's) latest
   * frame for latestTtlMs (null: the stored one stays as it is). Rejects when the bus is down.
   */
  publish(frame: Frame, latestTtlMs: number | null, rendition?: Rendition): Promise<void>;
  /** Calls onFrame for each frame of the camera until the returned function is called. */
  subscribe(camera: string, onFrame: FrameHandler, rendition?: Rendition): Promise<Unsubscribe>;
  /** The camera's latest frame if it is younger than its TTL, else null. */
  latest(camera: string, rendition?: Rendition): Promise<Frame | null>;
  /** Writes the camera's entry in the camera list; it vanishes after ttlMs unless announced again. */
  announce(info: CameraInfo, ttlMs: number): Promise<void>;
  /** Every camera's entry, checked (camera-info.ts): bad ones skipped and counted in stats.invalidCameraEntries. */
  cameras(): Promise<CameraInfo[]>;
  /** How many gateway processes are subscribed to the camera's frames, across the whole deployment. */
  watchers(camera: string, rendition?: Rendition): Promise<number>;
  /** Gateway side: a camera got its first viewer here; an idle capture should go back to full rate now. */
  requestFrames(camera: string, rendition?: Rendition): Promise<void>;
  /** Capture side: calls onRequest whenever some gateway asks for the camera's frames. */
  onFramesRequested(camera: string, onRequest: (rendition: Rendition) => void): Promise<Unsubscribe>;
  /** True while the bus can publish and deliver (its connections are up; says nothing about a frozen server). */
  isReady(): boolean;
  /** Connected and a PING came back within the command timeout: what /readyz answers. Never rejects. */
  checkReady(): Promise<boolean>;
  readonly stats: Readonly<BusStats>;
  /** Redis only, with REDIS_SUBSCRIBE_URL: the endpoint frames are read from now, and how often it failed over. */
  subscribeEndpoint?(): (SubscribeEndpoint & { failovers: number }) | null;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Which capture process captures a camera when several carry the same list (capture/cameras/fleet.ts): a
 * lease per camera that expires unless its holder renews it, so a dead holder's cameras are free again.
 */
export interface CameraLeases {
  /** Takes the camera's lease for `owner` if nobody holds it, or renews it if `owner` does: true; false while another owner holds it. */
  holdLease(camera: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, only if `owner` holds it. */
  releaseLease(camera: string, owner: string): Promise<void>;
  /** Says `owner` is alive for ttlMs more (by the server's clock); resolves with every owner alive now, sorted. */
  registerCapture(owner: string, ttlMs: number): Promise<string[]>;
  /** `owner` is gone (a clean stop). */
  unregisterCapture(owner: string): Promise<void>;
  /** A camera taken off the list: its entry leaves the camera list (gateways that know it keep it for CAMERA_GONE_MS). */
  retireCamera(camera: string): Promise<void>;
}

export function newStats(): BusStats {
  return { published: 0, publishFailed: 0, received: 0, malformed: 0, invalidCameraEntries: 0, reconnects: 0 };
}

/** A frame read from a camera's (or rendition's) channel or key must be that camera's, and that width. */
export function checkRendition(frame: Frame, camera: string, rendition: Rendition): Frame {
  if (frame.camera !== camera) throw new Error('camera id does not match channel');
  if (rendition !== null && frame.width !== rendition) throw new Error(`frame is ${frame.width} wide on the ${rendition} rendition's channel`);
  return frame;
}
