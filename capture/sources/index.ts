import { OpenCvSource } from './opencv.js';
import { parseSourceSpec, type FrameSource } from './source.js';
import { TestPatternSource } from './test-pattern.js';

export interface SourceOptions {
  camera: string;
  source: string;
  width: number;
  height: number;
  fps: number;
}

/** Builds the source CAPTURE_SOURCE names. Paced sources (file, test) are read on the frame clock; live ones as fast as they deliver. */
export function createSource(opts: SourceOptions): { source: FrameSource; live: boolean } {
  const spec = parseSourceSpec(opts.source);
  if (spec.kind === 'test') return { source: new TestPatternSource(opts.camera, opts.width, opts.height), live: false };
  return { source: new OpenCvSource(spec, opts), live: spec.kind !== 'file' };
}

export { SourceError, parseSourceSpec, SOURCE_FORMS } from './source.js';
export type { FrameSource } from './source.js';
