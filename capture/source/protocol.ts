/**
 * The messages between the capture (supervisor.ts) and its source process (child.ts), in one place
 * both sides import: the child does not depend on its supervisor.
 */
import type { OutputMode } from '../output.js';
import type { RedirectPolicy } from './kinds/http-open.js';
import type { PassthroughMode, SizeSetting, SourceSpec } from './kinds/source.js';
import type { PipelinePhase } from './pipeline.js';

/** What the source process needs to build its pipeline. */
export interface SourceInit {
  camera: string;
  /** CAPTURE_SOURCE as the capture parsed it: `auto` is resolved once, there. */
  spec: SourceSpec;
  width: SizeSetting;
  height: SizeSetting;
  fps: number;
  idleFps: number;
  jpegQuality: number | null;
  passthrough: PassthroughMode;
  maxFrameBytes: number;
  stallTimeoutMs: number;
  redirects: RedirectPolicy;
  retryMaxMs: number;
  logLevel: string;
  watching: boolean;
  /** Rendition widths being watched now (a replaced source process carries on encoding them). */
  renditionWidths: number[];
  startSeq: number;
}

export type ToSource =
  | { type: 'init'; init: SourceInit }
  | { type: 'watching'; watching: boolean }
  | { type: 'renditions'; widths: number[] }
  | { type: 'stop' };
export type FromSource =
  | { type: 'phase'; phase: PipelinePhase }
  | { type: 'mode'; mode: OutputMode; reason: string }
  | { type: 'frame'; seq: number; timestamp: number; width: number; height: number; jpeg: Uint8Array; encodeMs: number | null }
  | { type: 'rendition'; seq: number; timestamp: number; width: number; height: number; jpeg: Uint8Array; encodeMs: number };
