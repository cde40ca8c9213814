/**
 * Every Redis key and channel name in one place. The camera id sits in a hash tag ({cam}) so that a
 * camera's channel and latest-frame key live on one Redis Cluster slot.
 */
export const channels = {
  frames: (camera: string): string => `camfan:{${camera}}:frames`,
  latest: (camera: string): string => `camfan:{${camera}}:latest`,
  /** Gateways publish here when a camera gets its first viewer, so an idle capture speeds up at once. */
  wake: (camera: string): string => `camfan:{${camera}}:wake`,
  /** Hash: camera id -> CameraInfo JSON, refreshed by each capture about once a second. */
  cameras: 'camfan:cameras',
} as const;

