/**
 * An HTTP MJPEG camera passed through by the capture process itself, without a source process.
 *
 * The source process exists because OpenCV can hang inside an open and crash inside native code. camfan's
 * own MJPEG reader (source/kinds/http-mjpeg.ts) cannot: it is node:http with socket timeouts, and passthrough
 * needs no decoder. Run here it saves the source process (its ~150 MB of RSS with OpenCV loaded) and one
 * IPC copy of every frame, about half of passthrough's CPU (BENCHMARKS.md, capture section). The same
 * pipeline (stall detection, backoff, frame clock) runs here with canTranscode off: the first frame that
 * must be encoded (another size, JPEG_QUALITY, a server that needs OpenCV/FFmpeg) hands the camera to a
 * source process, which carries on the sequence and does everything, passthrough included, from then on.
 * Renditions of the passed-through camera are made by a rendition worker (../renditions/worker.ts) fed with
 * the camera's JPEGs, only while some are watched; after a hand-off, by the source process.
 */
import type { Logger } from '../../lib/log.js';
import { DEFAULT_JPEG_QUALITY, type OutputMode, type OutputPolicy } from '../output.js';
import { CapturePipeline, type FrameSink } from './pipeline.js';
import type { RenditionSink } from '../renditions/encoder.js';
import { RenditionWorker } from '../renditions/worker.js';
import { HttpMjpegSource } from './kinds/http-mjpeg.js';
import type { RedirectPolicy } from './kinds/http-open.js';
import type { DemandState } from '../demand.js';

/** What main.ts drives: a source process, or this. */
export interface SourceRunner {
  start(): void;
  /** Who watches now (Demand): the frame rate, and the rendition widths to encode. */
  setDemand(demand: DemandState): void;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  camera: string;
  url: string;
  output: OutputPolicy;
  fps: number;
  idleFps: number;
  maxFrameBytes: number;
  stallTimeoutMs: number;
  redirects: RedirectPolicy;
  retryMaxMs: number;
  sink: FrameSink & RenditionSink;
  log: Logger;
  logLevel: string;
  onMode: (mode: OutputMode, reason: string) => void;
  /** A source process for this camera, starting at this sequence number. */
  handOff: (startSeq: number) => SourceRunner;
}

export class InProcessPassthrough implements SourceRunner {
  private readonly pipeline: CapturePipeline;
  private readonly source: HttpMjpegSource;
  private replacement: SourceRunner | null = null;
  private readonly renditions: RenditionWorker;
  private demand: DemandState = { watching: true, renditions: [] };

  constructor(private readonly o: InProcessOptions) {
    const { width, height } = o.output;
    this.renditions = new RenditionWorker({
      camera: o.camera,
      quality: o.output.jpegQuality ?? DEFAULT_JPEG_QUALITY,
      logLevel: o.logLevel,
      sink: o.sink,
      log: o.log,
    });
    const source = new HttpMjpegSource(o.url, {
      maxFrameBytes: o.maxFrameBytes,
      stallTimeoutMs: o.stallTimeoutMs,
      log: o.log,
      size: { width, height, fps: o.fps },
      openCvFallback: false,
      redirects: o.redirects,
    });
    this.source = source;
    this.pipeline = new CapturePipeline({
      camera: o.camera,
      source,
      live: true,
      sink: o.sink,
      log: o.log,
      output: o.output,
      fps: o.fps,
      idleFps: o.idleFps,
      stallTimeoutMs: o.stallTimeoutMs,
      retryMaxMs: o.retryMaxMs,
      canTranscode: false,
      renditions: this.renditions,
      onMode: o.onMode,
      onHandOff: (reason, nextSeq) => this.handOff(reason, nextSeq),
    });
  }

  start(): void {
    this.pipeline.start();
  }

  setDemand(demand: DemandState): void {
    this.demand = demand;
    if (this.replacement) return this.replacement.setDemand(demand);
    this.pipeline.setWatching(demand.watching);
    this.renditions.setWidths(demand.renditions);
  }

  private handOff(reason: string, nextSeq: number): void {
    this.o.log.info({ reason }, 'this camera needs OpenCV: handing it to a source process');
    // The source process decodes every frame anyway: it makes the renditions from then on.
    void this.renditions.stop();
    const next = this.o.handOff(nextSeq);
    next.setDemand(this.demand);
    next.start();
    this.replacement = next;
  }

  /** Closing the source ends a wait for the camera's next byte at once, not after STALL_TIMEOUT_MS. */
  async stop(): Promise<void> {
    const stopped = this.pipeline.stop();
    this.source.close();
    await stopped;
    await Promise.all([this.renditions.stop(), this.replacement?.stop()]);
  }
}
