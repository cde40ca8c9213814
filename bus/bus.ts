/**
 * The narrow bus between capture and gateways: publish frames, subscribe to one camera's frames,
 * read a camera's latest frame, and announce/list cameras. Implemented over Redis (redis-bus.ts) and
 * in-process for unit tests (memory-bus.ts); test/unit/bus-contract.test.ts runs the same contract on both.
 */
import type { Frame } from './frame.js';

export interface CameraInfo {
  camera: string;
  source: string;
  width: number;
  height: number;
  /** Measured publish rate over the last second. */
  fps: number;
  targetFps: number;
  /** Capture time of the last published frame (ms since the epoch), 0 if none yet. */
  lastFrameAt: number;
  lastFrameBytes: number;
  /** True while no gateway watches the camera and the capture runs at its idle rate. */
  idle: boolean;
  /** Median JPEG encode time of recent frames (ms), null before the first (and while passing through). */
  encodeMsP50: number | null;
  /** passthrough: the camera's own JPEGs are published as they are; transcode: decoded and encoded by the capture. Unset before the first frame (and by older captures). */
  mode?: 'passthrough' | 'transcode';
  /** When this record was written (ms since the epoch). */
  updatedAt: number;
}

export type FrameHandler = (frame: Frame) => void;
export type Unsubscribe = () => Promise<void>;

export interface BusStats {
  published: number;
  publishFailed: number;
  received: number;
  malformed: number;
  /** Times a Redis connection came back after being lost. */
  reconnects: number;
}

export interface FrameBus {
  /** Publishes the frame and stores it as the camera's latest frame for latestTtlMs. Rejects when the bus is down. */
  publish(frame: Frame, latestTtlMs: number): Promise<void>;
  /** Calls onFrame for each frame of the camera until the returned function is called. */
  subscribe(camera: string, onFrame: FrameHandler): Promise<Unsubscribe>;
  /** The camera's latest frame if it is younger than its TTL, else null. */
  latest(camera: string): Promise<Frame | null>;
  announce(info: CameraInfo): Promise<void>;
  cameras(): Promise<CameraInfo[]>;
  /** How many gateway processes are subscribed to the camera's frames, across the whole deployment. */
  watchers(camera: string): Promise<number>;
  /** Gateway side: a camera got its first viewer here; an idle capture should go back to full rate now. */
  requestFrames(camera: string): Promise<void>;
  /** Capture side: calls onRequest whenever some gateway asks for the camera's frames. */
  onFramesRequested(camera: string, onRequest: () => void): Promise<Unsubscribe>;
  /** True while the bus can publish and deliver. */
  isReady(): boolean;
  readonly stats: Readonly<BusStats>;
  /** Idempotent. */
  close(): Promise<void>;
}

export function newStats(): BusStats {
  return { published: 0, publishFailed: 0, received: 0, malformed: 0, reconnects: 0 };
}
