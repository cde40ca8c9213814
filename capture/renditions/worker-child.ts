/**
 * The rendition worker: OpenCV for the renditions of an HTTP camera that the capture process passes
 * through itself (worker.ts starts it only while renditions are watched). It is sent one camera
 * JPEG at a time, with the widths wanted, and answers each rendition and then "done". It never sees the
 * camera's URL: only its JPEGs.
 */
import { createLogger } from '../../lib/log.js';
import { ipcBytes } from '../ipc-frame.js';
import { RenditionEncoder } from './encoder.js';
import { jpegFrame } from '../source/kinds/frames.js';
import type { FromRenditionWorker, ToRenditionWorker } from './protocol.js';

function post(msg: FromRenditionWorker): void {
  process.send?.(msg);
}

function run(init: Extract<ToRenditionWorker, { type: 'init' }>): void {
  const log = createLogger('capture', init.logLevel, { camera: init.camera, role: 'renditions' });
  const encoder = new RenditionEncoder({
    camera: init.camera,
    quality: init.quality,
    log,
    sink: {
      offerRendition: (frame, encodeMs) =>
        post({ type: 'rendition', seq: frame.seq, timestamp: frame.timestamp, width: frame.width, height: frame.height, jpeg: frame.jpeg, encodeMs }),
    },
  });
  process.on('message', (msg: ToRenditionWorker) => {
    if (msg.type === 'stop') process.exit(0);
    if (msg.type !== 'frame') return;
    const jpeg = ipcBytes(msg.jpeg);
    encoder.setWidths(msg.widths);
    void encoder.render(jpegFrame(jpeg, msg.width, msg.height), msg.published, false).then(() => post({ type: 'done' }));
  });
  post({ type: 'ready' });
}

if (!process.send) throw new Error('worker-child.js runs only as a child of the capture process');
// Orphaned (the capture was killed): nothing to do without it.
process.on('disconnect', () => process.exit(0));
process.once('message', (msg: ToRenditionWorker) => {
  if (msg.type === 'init') run(msg);
});
