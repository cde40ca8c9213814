/**
 * Frames from the bus are checked, not trusted: anyone who can write to Redis can publish on a camera's
 * channel or set its latest-frame key. The wire format (bus/frame.ts) already proves a frame is whole
 * (magic, version, camera id, SOI/EOI); here the gateway refuses what would harm its viewers:
 *   - too_large: over MAX_FRAME_BYTES (memory per frame, bandwidth per viewer);
 *   - future: stamped more than MAX_CLOCK_SKEW_MS ahead of this gateway's clock (ages would be negative,
 *     and a snapshot would count as live long after the camera stopped);
 *   - boundary: a JPEG that contains the stream's multipart delimiter, which would let it inject a part of
 *     any content type into every advance-framed stream.
 * Each refusal is counted per reason and logged once per camera and reason.
 */
import type { Frame } from '../../bus/frame.js';
import type { Logger } from '../../lib/log.js';
import { BOUNDARY } from './packet.js';

export type Rejection = 'too_large' | 'future' | 'boundary';

const DELIMITER = Buffer.from(`--${BOUNDARY}`, 'latin1');

export interface IngestOptions {
  maxFrameBytes: number;
  maxClockSkewMs: number;
  log: Logger;
}

export class FrameCheck {
  readonly rejected: Record<Rejection, number> = { too_large: 0, future: 0, boundary: 0 };
  private readonly logged = new Set<string>();

  constructor(private readonly o: IngestOptions) {}

  /** True when the frame may be shown; otherwise counts (and once logs) why not. */
  accepts(frame: Frame): boolean {
    const reason = this.reject(frame);
    if (reason === null) return true;
    this.rejected[reason]++;
    const key = `${frame.camera}\0${reason}`;
    if (!this.logged.has(key)) {
      this.logged.add(key);
      this.o.log.warn(
        { camera: frame.camera, reason, bytes: frame.jpeg.length, aheadMs: Math.round(frame.timestamp - Date.now()) },
        'refused a frame from the bus (logged once per camera and reason)',
      );
    }
    return false;
  }

  private reject(frame: Frame): Rejection | null {
    if (frame.jpeg.length > this.o.maxFrameBytes) return 'too_large';
    if (frame.timestamp - Date.now() > this.o.maxClockSkewMs) return 'future';
    if (frame.jpeg.indexOf(DELIMITER) !== -1) return 'boundary';
    return null;
  }
}
