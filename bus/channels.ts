/**
 * Every Redis key and channel name in one place. The camera id sits in a hash tag ({cam}) so that a
 * camera's channel and latest-frame key live on one Redis Cluster slot.
 */
export const channels = {
  frames: (camera: string): string => `camfan:{${camera}}:frames`,
  latest: (camera: string): string => `camfan:{${camera}}:latest`,
  /** Hash: camera id -> CameraInfo JSON, refreshed by each capture about once a second. */
  cameras: 'camfan:cameras',
} as const;

/** Inverse of channels.frames, for the subscriber's message handler. */
export function cameraOfChannel(channel: string): string | null {
  const m = /^camfan:\{([^}]+)\}:frames$/.exec(channel);
  return m ? m[1]! : null;
}
