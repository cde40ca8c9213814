/**
 * A camera's entry in the camera list, defined once for the bus (bus/bus.ts), the gateway's
 * /api/cameras and the page (gateway/page/client/cameras.ts). Types only, no Node imports: an ES module the
 * gateway can serve to browsers like frame-format.mts.
 */
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
  /** Smaller pictures (RENDITION_WIDTHS) the capture encodes now because some gateway watches them. */
  renditions?: RenditionInfo[];
}

export interface RenditionInfo {
  width: number;
  height: number;
  /** Measured publish rate over the last second. */
  fps: number;
  lastFrameBytes: number;
}

/** An entry of GET /api/cameras: the camera's record and what this gateway knows of it. */
export type ListedCamera = CameraInfo & {
  /** Its last frame is fresher than LIVE_TIMEOUT_MS. */
  live: boolean;
  viewersHere: number;
};
