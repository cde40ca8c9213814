/** What the bus contract test publishes and announces: small frames and camera-list entries. */
import type { CameraInfo } from '../../bus/bus.js';
import type { Frame } from '../../bus/frame.js';

/** A tiny whole JPEG frame. */
export function frame(camera: string, seq: number): Frame {
  const jpeg = Buffer.from([0xff, 0xd8, seq % 256, 0xff, 0xd9]);
  return { camera, seq, timestamp: Date.now(), width: 4, height: 3, jpeg };
}

/** A camera-list entry as a capture announces it. */
export function cameraInfo(camera: string, encodeMsP50: number | null): CameraInfo {
  return {
    camera,
    source: 'test pattern',
    width: 4,
    height: 3,
    fps: 30,
    targetFps: 30,
    lastFrameAt: 1,
    lastFrameBytes: 5,
    idle: false,
    encodeMsP50,
    updatedAt: 2,
  };
}
