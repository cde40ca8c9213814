/**
 * The capture loop: open the source (retrying with backoff), then per frame read -> resize if needed ->
 * encode once (off the event loop) -> publish. A source that fails, ends or stalls is reported with its
 * name and reopened; a file loops.
 */
import type { Logger } from '../lib/log.js';
import { backoffMs } from '../lib/backoff.js';
import { Pacer } from '../lib/pacer.js';
import type { Frame } from '../bus/frame.js';
import cv, { type Mat } from './sources/cv.js';
import type { FrameSource } from './sources/index.js';

export interface PipelineOptions {
  camera: string;
  source: FrameSource;
  /** Live sources are read as fast as they deliver; others on the frame clock. */
  live: boolean;
  sink: FrameSink;
  log: Logger;
  width: number;
  height: number;
  fps: number;
  /** First sequence number: a replaced source process carries on from the last one. */
  startSeq?: number;
  onPhase?: (phase: PipelinePhase) => void;
  /** Rate while nobody watches (0: never idle). */
  idleFps: number;
  jpegQuality: number;
  stallTimeoutMs: number;
  retryMaxMs: number;
}

/** Where encoded frames go (in the source process: the IPC channel to the capture). */
export interface FrameSink {
  offer(frame: Frame, encodeMs: number): void;
}

/** What the pipeline is doing, for the capture's watchdog: an open can hang inside OpenCV. */
export type PipelinePhase = 'opening' | 'streaming' | 'retrying';

export class CapturePipeline {
  private readonly signal = { stopped: false };
  private running: Promise<void> | null = null;
  private seq: number;
  private wake: (() => void) | null = null;
  private readonly pacer: Pacer;

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
        this.o.log.info({ source: this.o.source.description, attempt }, 'source opened');
        attempt = 0;
        await this.stream();
      } catch (err) {
        if (this.signal.stopped) break;
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
      const mat = await this.withStallTimeout(source.read({ seq: this.seq, now }), stallTimeoutMs);
      if (mat === null) {
        // Checked before rewinding: a file emptied under us rewinds "successfully" forever.
        if (Date.now() - lastFrameAt > stallTimeoutMs) throw new Error(`no frame for ${stallTimeoutMs} ms`);
        if (source.rewind()) continue;
        await this.sleep(Math.min(50, pacer.intervalMs));
        continue;
      }
      lastFrameAt = Date.now();
      if (live && !pacer.take()) continue;
      await this.encodeAndPublish(mat, live ? lastFrameAt : now);
    }
  }

  private async encodeAndPublish(mat: Mat, timestamp: number): Promise<void> {
    const { width, height, jpegQuality } = this.o;
    const sized = mat.cols === width && mat.rows === height ? mat : await mat.resizeAsync(height, width);
    const t0 = performance.now();
    const jpeg = await cv.imencodeAsync('.jpg', sized, [cv.IMWRITE_JPEG_QUALITY, jpegQuality]);
    this.o.sink.offer({ camera: this.o.camera, seq: this.seq++, timestamp, width, height, jpeg }, performance.now() - t0);
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
