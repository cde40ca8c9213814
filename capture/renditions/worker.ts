/**
 * Renditions of an HTTP camera passed through by the capture process itself (in-process.ts), which never
 * loads OpenCV: a child process (worker-child.ts) is fed the camera's JPEGs, one at a time, and sends
 * the renditions back. It is started when a rendition is first watched (a fork and OpenCV's load take
 * about half a second; a snapshot waits 1.5 s), kept for LINGER_MS after the last rendition viewer left
 * (a page reload should not pay that again), then stopped, giving back its ~150 MB.
 *
 * Latest frame wins here too: while the worker is busy with a frame, the frames offered are skipped; no
 * JPEG waits in the IPC channel. A worker busy for longer than STUCK_MS (stuck in native code) is killed
 * and a new one started on a later frame; after a crash the next one waits 2 s, doubling with each crash
 * in a row (up to a minute), so a worker that cannot start costs a log line a minute, not a fork a frame.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger } from '../../lib/log.js';
import { frameFromIpc } from '../ipc-frame.js';
import type { RenditionSink } from './encoder.js';
import { renditionsOf, type PublishedFrame, type RenditionOutput } from './geometry.js';
import type { FromRenditionWorker, ToRenditionWorker } from './protocol.js';
import type { SourceFrame } from '../source/kinds/source.js';

export interface RenditionWorkerOptions {
  camera: string;
  quality: number;
  logLevel: string;
  sink: RenditionSink;
  log: Logger;
  lingerMs?: number;
}

const LINGER_MS = 30_000;
const STUCK_MS = 5000;
const RESTART_GAP_MS = 2000;
const RESTART_GAP_MAX_MS = 60_000;
const STOP_WAIT_MS = 1500;
const resolved = Promise.resolve();

export class RenditionWorker implements RenditionOutput {
  sent = 0;
  skippedBusy = 0;
  private child: ChildProcess | null = null;
  private widths: number[] = [];
  private busySince: number | null = null;
  private crashedAt = 0;
  /** Crashes since the last frame done: each one doubles the wait before the next worker. */
  private crashes = 0;
  private linger: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: RenditionWorkerOptions) {}

  /** The widths being watched (Demand). None: the worker is stopped after LINGER_MS. */
  setWidths(widths: number[]): void {
    this.widths = widths;
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    if (widths.length > 0 || !this.child) return;
    this.linger = setTimeout(() => void this.retire('no rendition watched'), this.o.lingerMs ?? LINGER_MS);
    this.linger.unref();
  }

  offer(frame: SourceFrame, published: PublishedFrame): Promise<void> {
    const widths = renditionsOf(published, this.widths);
    if (widths.length === 0 || frame.jpeg === null || this.stopped) return resolved;
    if (this.busySince !== null) {
      this.skippedBusy++;
      if (Date.now() - this.busySince > STUCK_MS && this.child) {
        this.o.log.error({ busyMs: Date.now() - this.busySince }, 'rendition worker stuck on a frame; killing it');
        this.child.kill('SIGKILL');
      }
      return resolved;
    }
    const child = this.ensureChild();
    if (!child) return resolved;
    this.busySince = Date.now();
    this.sent++;
    const msg: ToRenditionWorker = { type: 'frame', jpeg: frame.jpeg, width: frame.width, height: frame.height, published, widths };
    child.send(msg, (err) => {
      if (err && child === this.child) this.busySince = null;
    });
    return resolved;
  }

  private ensureChild(): ChildProcess | null {
    if (this.child) return this.child;
    if (Date.now() - this.crashedAt < this.restartGapMs()) return null;
    // It never sees the camera's URL, only JPEGs: its output can go straight to ours.
    const child = fork(path.join(__dirname, 'worker-child.js'), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    this.busySince = null;
    child.on('message', (msg: FromRenditionWorker) => this.onMessage(child, msg));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (err) => this.o.log.error({ err: err.message }, 'rendition worker error'));
    const init: ToRenditionWorker = { type: 'init', camera: this.o.camera, quality: this.o.quality, logLevel: this.o.logLevel };
    child.send(init);
    this.o.log.info({ workerPid: child.pid }, 'rendition worker started (OpenCV for the renditions of a camera passed through)');
    return child;
  }

  private onMessage(child: ChildProcess, msg: FromRenditionWorker): void {
    if (child !== this.child) return;
    if (msg.type === 'done') {
      this.busySince = null;
      this.crashes = 0;
    } else if (msg.type === 'rendition') {
      this.o.sink.offerRendition(frameFromIpc(this.o.camera, msg), msg.encodeMs);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
    this.busySince = null;
    this.crashedAt = Date.now();
    this.crashes++;
    this.o.log.error({ code, signal, crashes: this.crashes, retryAfterMs: this.restartGapMs() }, 'rendition worker ended; a new one starts with a later frame');
  }

  private restartGapMs(): number {
    return this.crashes === 0 ? 0 : Math.min(RESTART_GAP_MAX_MS, RESTART_GAP_MS * 2 ** Math.min(this.crashes - 1, 10));
  }

  /** Stops the worker (it is started again by the next rendition viewer). */
  private async retire(reason: string): Promise<void> {
    const child = this.child;
    this.child = null;
    this.busySince = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.o.log.info({ workerPid: child.pid, reason }, 'rendition worker stopped');
    const exited = new Promise<boolean>((resolve) => {
      child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), STOP_WAIT_MS).unref();
    });
    if (child.connected) child.send({ type: 'stop' } satisfies ToRenditionWorker, () => undefined);
    if (!(await exited)) child.kill('SIGKILL');
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.linger) clearTimeout(this.linger);
    await this.retire('capture stopping');
  }

  /** The worker's pid while it runs (tests). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }
}
