/**
 * The source process: everything that touches OpenCV (open, read, resize, encode, renditions) runs here, in a child
 * of the capture process. OpenCV opens a source synchronously and an open can hang (a stream that
 * accepts and never answers, a stuck GStreamer pipeline); FFmpeg even holds a process-wide lock while it
 * waits. Here that stalls only this process, which the parent sees, kills and replaces.
 */
import { createLogger } from '../../lib/log.js';
import { DEFAULT_JPEG_QUALITY } from '../output.js';
import { CapturePipeline } from './pipeline.js';
import { RenditionEncoder } from '../renditions/encoder.js';
import type { FromSource, SourceInit, ToSource } from './protocol.js';
import { createSource } from './kinds/index.js';

function post(msg: FromSource): void {
  process.send?.(msg);
}

function run(init: SourceInit): void {
  const log = createLogger('capture', init.logLevel, { camera: init.camera, role: 'source' });
  const { camera, width, height, fps, passthrough, maxFrameBytes, stallTimeoutMs, redirects } = init;
  const { source, live } = createSource({ camera, spec: init.spec, width, height, fps, passthrough, maxFrameBytes, stallTimeoutMs, redirects, log });
  const renditions = new RenditionEncoder({
    camera,
    quality: init.jpegQuality ?? DEFAULT_JPEG_QUALITY,
    log,
    sink: {
      offerRendition: (frame, encodeMs) =>
        post({ type: 'rendition', seq: frame.seq, timestamp: frame.timestamp, width: frame.width, height: frame.height, jpeg: frame.jpeg, encodeMs }),
    },
  });
  renditions.setWidths(init.renditionWidths);
  const pipeline = new CapturePipeline({
    ...init,
    renditions,
    output: { passthrough, width, height, jpegQuality: init.jpegQuality },
    source,
    live,
    log,
    onPhase: (phase) => post({ type: 'phase', phase }),
    onMode: (mode, reason) => post({ type: 'mode', mode, reason }),
    sink: {
      offer: (frame, encodeMs) =>
        post({ type: 'frame', seq: frame.seq, timestamp: frame.timestamp, width: frame.width, height: frame.height, jpeg: frame.jpeg, encodeMs }),
    },
  });
  pipeline.setWatching(init.watching);
  process.on('message', (msg: ToSource) => {
    if (msg.type === 'watching') pipeline.setWatching(msg.watching);
    else if (msg.type === 'renditions') renditions.setWidths(msg.widths);
    else if (msg.type === 'stop') void pipeline.stop().then(() => process.exit(0));
  });
  pipeline.start();
}

if (!process.send) throw new Error('child.js (the source process) runs only as a child of the capture process');
// Orphaned (the capture was killed): stop at once rather than hold the camera.
process.on('disconnect', () => process.exit(0));
process.once('message', (msg: ToSource) => {
  if (msg.type === 'init') run(msg.init);
});
