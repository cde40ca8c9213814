/**
 * The capture loop: open the source (retrying with backoff), then per frame read -> either the camera's
 * own JPEG as it is (passthrough) or decode, resize if needed and encode once (off the event loop) ->
 * publish. A source that fails, ends or stalls is reported with its name and reopened; a file loops.
 */
import type { Logger } from '../../lib/log.js';
import { backoffMs } from '../../lib/backoff.js';
import { Pacer } from '../../lib/pacer.js';
import type { Frame } from '../../bus/frame.js';
import { decideOutput, type OutputDecision, type OutputMode, type OutputPolicy } from '../output.js';
import type { RenditionOutput } from '../renditions/geometry.js';
import { loadCv } from './kinds/lazy-cv.js';
import { HandOffError, type FrameSource, type SourceFrame } from './kinds/source.js';

export interface PipelineOptions {
  camera: string;
  source: FrameSource;
  /** Live sources are read as fast as they deliver; others on the frame clock. */
  live: boolean;
  sink: FrameSink;
  log: Logger;
  output: OutputPolicy;
  fps: number;
  /** First sequence number: a replaced source process carries on from the last one. */
  startSeq?: number;
  onPhase?: (phase: PipelinePhase) => void;
  /**
   * False in the capture process, which never loads OpenCV: a frame that must be transcoded (or a source
   * that needs OpenCV) ends this pipeline and onHandOff passes the camera, and the next sequence number, on
   * to a source process.
   */
  canTranscode?: boolean;
  onHandOff?: (reason: string, nextSeq: number) => void;
  /** Passthrough or transcoding, and why: called when it changes (for the announced camera info). */
  onMode?: (mode: OutputMode, reason: string) => void;
  /** Each published frame goes here too, after the camera's own picture (renditions being watched). */
  renditions?: RenditionOutput;
  /** Rate while nobody watches (0: never idle). */
  idleFps: number;
  stallTimeoutMs: number;
  retryMaxMs: number;
}

/** Where encoded frames go (in the source process: the IPC channel to the capture). */
export interface FrameSink {
  /** encodeMs: how long the JPEG encode took, null for a camera's JPEG passed through. */
  offer(frame: Frame, encodeMs: number | null): void;
}

/** What the pipeline is doing, for the capture's watchdog: an open can hang inside OpenCV. */
export type PipelinePhase = 'opening' | 'streaming' | 'retrying';

export class CapturePipeline {
  private readonly signal = { stopped: false };
  private running: Promise<void> | null = null;
  private seq: number;
  private wake: (() => void) | null = null;
  private readonly pacer: Pacer;
  private mode: { mode: OutputMode; reason: string } | null = null;

  constructor(private readonly o: PipelineOptions) {
    this.pacer = new Pacer(o.fps);
    this.seq = o.startSeq ?? 0;
  }

  /** Full rate while someone watches, the idle rate otherwise; a change applies from the next frame. */
  setWatching(watching: boolean): void {
    this.pacer.setFps(watching || this.o.idleFps === 0 ? this.o.fps : this.o.idleFps);
  }

  start(): void {
    this.running ??= this.run();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.signal.stopped) {
      try {
        this.o.onPhase?.('opening');
        await this.o.source.open();
        this.o.onPhase?.('streaming');
        this.o.log.info({ source: this.o.source.description, delivers: this.o.source.delivers, attempt }, 'source opened');
        attempt = 0;
        await this.stream();
      } catch (err) {
        if (this.signal.stopped) break;
        if (err instanceof HandOffError && this.o.onHandOff) {
          this.o.onHandOff(err.reason, this.seq);
          break;
        }
        attempt++;
        const delay = backoffMs(attempt - 1, this.o.retryMaxMs);
        this.o.log.error({ source: this.o.source.description, err: (err as Error).message, attempt, retryInMs: delay }, 'source failed; retrying');
        this.o.source.close();
        this.o.onPhase?.('retrying');
        await this.sleep(delay);
      }
    }
    this.o.source.close();
  }

  /** Runs until the source fails or stalls (throws) or the pipeline stops. */
  private async stream(): Promise<void> {
    const { source, live, stallTimeoutMs } = this.o;
    const pacer = this.pacer;
    let lastFrameAt = Date.now();
    while (!this.signal.stopped) {
      if (!live) await pacer.wait(this.signal);
      if (this.signal.stopped) return;
      const now = Date.now();
      const frame = await this.withStallTimeout(source.read({ seq: this.seq, now }), stallTimeoutMs);
      if (frame === null) {
        // Checked before rewinding: a file emptied under us rewinds "successfully" forever.
        if (Date.now() - lastFrameAt > stallTimeoutMs) throw new Error(`no frame for ${stallTimeoutMs} ms`);
        if (source.rewind()) continue;
        await this.sleep(Math.min(50, pacer.intervalMs));
        continue;
      }
      lastFrameAt = Date.now();
      if (live && !pacer.take()) continue;
      await this.publish(frame, live ? lastFrameAt : now);
    }
  }

  private async publish(frame: SourceFrame, timestamp: number): Promise<void> {
    const decision = decideOutput(this.o.output, { width: frame.width, height: frame.height, hasJpeg: frame.jpeg !== null });
    if (decision.mode === 'transcode' && this.o.canTranscode === false) throw new HandOffError(decision.reason);
    this.noteMode(decision);
    const seq = this.seq;
    if (decision.mode === 'passthrough' && frame.jpeg) {
      this.o.sink.offer({ camera: this.o.camera, seq: this.seq++, timestamp, width: frame.width, height: frame.height, jpeg: frame.jpeg }, null);
      await this.o.renditions?.offer(frame, { seq, timestamp, width: frame.width, height: frame.height }, false);
      return;
    }
    if (decision.mode !== 'transcode') return;
    const { width, height, quality } = decision;
    // Loaded here, not at the top: the capture process runs this pipeline for passthrough without OpenCV.
    const cv = loadCv();
    const mat = await frame.decode();
    const sized = mat.cols === width && mat.rows === height ? mat : await mat.resizeAsync(height, width);
    const t0 = performance.now();
    const jpeg = await cv.imencodeAsync('.jpg', sized, [cv.IMWRITE_JPEG_QUALITY, quality]);
    this.o.sink.offer({ camera: this.o.camera, seq: this.seq++, timestamp, width, height, jpeg }, performance.now() - t0);
    // After the camera's own picture, from the picture decoded for it: renditions never delay it.
    await this.o.renditions?.offer(frame, { seq, timestamp, width, height }, true);
  }

  /** Logged once per change, not per frame. */
  private noteMode(d: OutputDecision): void {
    if (this.mode?.mode === d.mode && this.mode.reason === d.reason) return;
    this.mode = { mode: d.mode, reason: d.reason };
    this.o.log.info(
      { source: this.o.source.description, mode: d.mode, reason: d.reason },
      d.mode === 'passthrough' ? "passthrough: publishing the camera's JPEGs as they are" : 'transcoding: decoding and encoding each frame',
    );
    this.o.onMode?.(d.mode, d.reason);
  }

  private async withStallTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stall = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`read stalled for ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([p, stall]);
    } finally {
      clearTimeout(timer);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  async stop(): Promise<void> {
    this.signal.stopped = true;
    this.wake?.();
    await this.running;
  }
}
