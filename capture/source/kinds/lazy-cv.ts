/**
 * OpenCV on first use. The capture process passes HTTP cameras through without OpenCV (its native
 * module is ~100 MB of RSS and the code that may crash); modules it shares with the source process load
 * OpenCV through this only when they must decode or encode.
 */
import type cvType from './cv.js';

export function loadCv(): typeof cvType {
  return (require('./cv.js') as { default: typeof cvType }).default;
}
