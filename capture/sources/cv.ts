/**
 * Loads OpenCV (@u4/opencv4nodejs) once. Its build helper prints coloured "config" lines on every load,
 * which would break our JSON logs: silence it first.
 */
import { createRequire } from 'node:module';

const load = createRequire(__filename);
(load('@u4/opencv-build') as { Log: { silence: boolean } }).Log.silence = true;

import type * as CV from '@u4/opencv4nodejs';
const cv = (load('@u4/opencv4nodejs') as { cv: typeof CV.cv }).cv;

export type Mat = CV.Mat;
export default cv;
