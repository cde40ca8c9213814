/**
 * The messages between the capture process (worker.ts) and its rendition worker (worker-child.ts), in one
 * file both sides import, as source/protocol.ts is for the source process: a change to one side's
 * messages is a change both sides see at compile time.
 */
import type { PublishedFrame } from './geometry.js';

export type ToRenditionWorker =
  | { type: 'init'; camera: string; quality: number; logLevel: string }
  | { type: 'frame'; jpeg: Uint8Array; width: number; height: number; published: PublishedFrame; widths: number[] }
  | { type: 'stop' };

export type FromRenditionWorker =
  | { type: 'ready' }
  | { type: 'rendition'; seq: number; timestamp: number; width: number; height: number; jpeg: Uint8Array; encodeMs: number }
  | { type: 'done' };
