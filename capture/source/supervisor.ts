/**
 * The capture's handle on its source process (child.ts): starts it, forwards frames to the
 * publisher and viewer demand to the pipeline, and replaces it when it cannot go on by itself: an open
 * that has not returned after OPEN_TIMEOUT_MS (OpenCV cannot abandon an open), a crash inside native
 * code, or silence (no frame and no word for longer than a stall plus a retry could take: stuck in a
 * read or a release). Each replacement waits longer (up to RETRY_MAX_MS) and is logged with its reason.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { backoffMs } from '../../lib/backoff.js';
import type { Logger } from '../../lib/log.js';
import { frameFromIpc } from '../ipc-frame.js';
import type { OutputMode } from '../output.js';
import type { FrameSink } from './pipeline.js';
import type { RenditionSink } from '../renditions/encoder.js';
import type { FromSource, SourceInit, ToSource } from './protocol.js';
import type { DemandState } from '../demand.js';
import { forwardRedacted } from './kinds/describe.js';

export interface SourceProcessOptions {
  init: Omit<SourceInit, 'startSeq' | 'watching' | 'renditionWidths'>;
  sink: FrameSink & RenditionSink;
  log: Logger;
  /** For log lines; never contains a password. */
  description: string;
  /** Strings of the raw source that must not reach the log (describe.ts secretsOf). */
  secrets: readonly string[];
  openTimeoutMs: number;
  onMode?: (mode: OutputMode, reason: string) => void;
  /** First sequence number (a camera handed over by the capture process carries on from its last). */
  startSeq?: number;
}

const WARN_EVERY_MS = 5000;
const STOP_WAIT_MS = 1500;

export class SourceProcess {
  private child: ChildProcess | null = null;
  private demand: DemandState = { watching: true, renditions: [] };
  private nextSeq = 0;
  private openingSince: number | null = null;
  private lastHeardAt = Date.now();
  private lastWarnAt = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly o: SourceProcessOptions) {
    this.nextSeq = o.startSeq ?? 0;
    this.watchdog = setInterval(() => this.check(), 250);
    this.watchdog.unref();
  }

  start(): void {
    const child = fork(path.join(__dirname, 'child.js'), [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    // OpenCV, FFmpeg and GStreamer print what they like (a URL with its password, say): every line the
    // source process writes passes through redactText on its way to the capture's own output.
    forwardRedacted(child.stdout!, process.stdout, this.o.secrets);
    forwardRedacted(child.stderr!, process.stderr, this.o.secrets);
    this.openingSince = null;
    this.lastHeardAt = Date.now();
    child.on('message', (msg: FromSource) => this.onMessage(msg));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (err) => this.o.log.error({ err: err.message }, 'source process error'));
    this.send({ type: 'init', init: { ...this.o.init, watching: this.demand.watching, renditionWidths: this.demand.renditions, startSeq: this.nextSeq } });
  }

  /** Who watches now (Demand); the source process encodes the renditions from its frames. */
  setDemand(demand: DemandState): void {
    this.demand = demand;
    this.send({ type: 'watching', watching: demand.watching });
    this.send({ type: 'renditions', widths: demand.renditions });
  }

  /** Stops the pipeline at a frame boundary; a source process stuck inside OpenCV is killed after a short wait. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    clearInterval(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<boolean>((resolve) => {
      child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), STOP_WAIT_MS).unref();
    });
    this.send({ type: 'stop' });
    if (await exited) return;
    this.o.log.warn({ source: this.o.description }, 'source process did not stop in time (stuck in OpenCV); killing it');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }

  private onMessage(msg: FromSource): void {
    this.lastHeardAt = Date.now();
    if (msg.type === 'frame') {
      this.nextSeq = msg.seq + 1;
      this.restarts = 0;
      this.o.sink.offer(frameFromIpc(this.o.init.camera, msg), msg.encodeMs);
    } else if (msg.type === 'rendition') {
      this.o.sink.offerRendition(frameFromIpc(this.o.init.camera, msg), msg.encodeMs);
    } else if (msg.type === 'mode') {
      this.o.onMode?.(msg.mode, msg.reason);
    } else {
      this.openingSince = msg.phase === 'opening' ? Date.now() : null;
      this.lastWarnAt = Date.now();
    }
  }

  private check(): void {
    if (this.stopping || !this.child) return;
    const now = Date.now();
    if (this.openingSince === null) {
      // Between two messages the pipeline waits at most a stall timeout and a retry backoff (or one idle
      // frame interval, 1 s at most): twice that is silence.
      const silentMs = now - this.lastHeardAt;
      const limitMs = 2 * (this.o.init.stallTimeoutMs + this.o.init.retryMaxMs + 1000);
      if (silentMs < limitMs) return;
      this.o.log.error({ source: this.o.description, silentMs, limitMs }, 'source process silent (stuck in OpenCV?); killing it and starting a new one');
      this.lastHeardAt = now;
      this.child.kill('SIGKILL');
      return;
    }
    const elapsed = now - this.openingSince;
    if (elapsed >= this.o.openTimeoutMs) {
      this.openingSince = null;
      this.o.log.error(
        { source: this.o.description, elapsedMs: elapsed, openTimeoutMs: this.o.openTimeoutMs },
        'source open hung (OPEN_TIMEOUT_MS); killing the source process and starting a new one',
      );
      this.child.kill('SIGKILL');
    } else if (now - this.lastWarnAt >= Math.min(WARN_EVERY_MS, this.o.openTimeoutMs / 2)) {
      this.lastWarnAt = now;
      this.o.log.warn({ source: this.o.description, elapsedMs: elapsed, openTimeoutMs: this.o.openTimeoutMs }, 'source still opening');
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child || this.stopping) return;
    this.child = null;
    const delay = backoffMs(this.restarts++, this.o.init.retryMaxMs);
    this.o.log.error({ source: this.o.description, code, signal, restarts: this.restarts, retryInMs: delay }, 'source process ended; starting a new one');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.start();
    }, delay);
  }

  private send(msg: ToSource): void {
    const child = this.child;
    if (child?.connected) child.send(msg, (err) => err && this.o.log.debug({ err: err.message }, 'source process gone before a message'));
  }
}
