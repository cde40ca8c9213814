/**
 * Every Redis key and channel name in one place. The camera id sits in a hash tag ({cam}) so that a
 * camera's channel and latest-frame key live on one Redis Cluster slot.
 */
export const channels = {
  /** A camera's frames; with a rendition width, that smaller picture's frames (encoded only while watched). */
  frames: (camera: string, rendition?: number | null): string => `camfan:{${camera}}:frames${rendition ? `:w${rendition}` : ''}`,
  latest: (camera: string, rendition?: number | null): string => `camfan:{${camera}}:latest${rendition ? `:w${rendition}` : ''}`,
  /**
   * Nobody publishes here: a gateway that reads a camera's frames from a replica (REDIS_SUBSCRIBE_URL)
   * subscribes to this on the primary, so the capture still counts it as watching (capture/demand.ts).
   */
  watching: (camera: string, rendition?: number | null): string => `camfan:{${camera}}:watching${rendition ? `:w${rendition}` : ''}`,
  /**
   * Gateways publish here when a camera (message "1") or one of its renditions (message "w<width>") gets
   * its first viewer, so an idle capture speeds up, or starts encoding that rendition, at once.
   */
  wake: (camera: string): string => `camfan:{${camera}}:wake`,
  /** The id of the capture process that captures the camera, while it renews it (bus.ts CameraLeases). */
  lease: (camera: string): string => `camfan:{${camera}}:lease`,
  /** Sorted set: the capture processes sharing cameras by lease, each scored with the time its registration ends. */
  captures: 'camfan:captures',
  /**
   * The camera's entry in the camera list (CameraInfo JSON), refreshed by its capture about once a second.
   * One key per camera, in the camera's slot, not one hash for all: Redis ACL grants keys, not hash fields,
   * so only this way can a capture user be allowed its own cameras' entries and no others.
   */
  camera: (camera: string): string => `camfan:{${camera}}:camera`,
  /** SCAN MATCH pattern of every camera's entry (gateways list cameras with it). */
  cameraPattern: 'camfan:{*}:camera',
} as const;

/** The camera id in a camera-entry key (the text between the braces), or null for another key. */
export function cameraOfKey(key: string): string | null {
  const m = /^camfan:\{(.*)\}:camera$/s.exec(key);
  return m ? m[1]! : null;
}

/** The wake channel's message: "1" for the camera's own picture, "w<width>" for a rendition. */
export function wakeMessage(rendition: number | null): string {
  return rendition ? `w${rendition}` : '1';
}

/** The rendition a wake message asks for; undefined for a message that is neither form. */
export function parseWakeMessage(message: string): number | null | undefined {
  if (message === '1') return null;
  const m = /^w(\d{2,5})$/.exec(message);
  return m ? Number(m[1]) : undefined;
}
