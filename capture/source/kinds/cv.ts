/**
 * Loads OpenCV (@u4/opencv4nodejs) once. Its build helper prints coloured "config" lines on every load,
 * which would break our JSON logs: silence it first.
 *
 * Its external-memory tracking is turned off before the load. With it on, freeing a Mat inside garbage
 * collection (the Mat's finalizer) calls Nan::AdjustExternalMemory from within the GC, and Node 20 aborts
 * ("Check failed: marking_done_", SIGTRAP): seen in the source process within seconds of decoding a JPEG
 * and resizing it at 30 fps (renditions; BENCHMARKS.md), and reproduced by a bare imdecodeAsync + resize
 * loop, which runs clean with tracking off. Without it, V8 does not count Mats' pixels towards its heap:
 * the Mats of a frame die young and go at the next scavenge (RSS stayed flat in that loop).
 */
import { createRequire } from 'node:module';

process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= '1';
const load = createRequire(__filename);
(load('@u4/opencv-build') as { Log: { silence: boolean } }).Log.silence = true;

import type * as CV from '@u4/opencv4nodejs';
const cv = (load('@u4/opencv4nodejs') as { cv: typeof CV.cv }).cv;

export type Mat = CV.Mat;
export default cv;
