/**
 * The cameras of one capture process, kept in step with its CAMERAS_FILE (watch.ts): an entry added is
 * started, one changed is stopped and started again with its new settings, one removed is stopped; the
 * others are not touched. Every camera is a CameraRunner (../camera.ts) on the one bus the process shares:
 * an HTTP camera passed through costs no process, an OpenCV camera has a source process of its own, so a
 * hung or crashed source only ever takes its own camera down (and is replaced, as with one camera).
 *
 * A refused entry (parser: entries.ts) is logged once, naming the entry and the field, and counted; the
 * rest of the list is applied. If the refused entry names a camera that is running, that camera keeps
 * running with its last good settings: a typo in one field must not take a camera off the air. A file
 * that is not a list at all (bad JSON, empty: a write caught halfway) changes nothing.
 */
import type { FrameBus } from '../../bus/bus.js';
import type { Logger } from '../../lib/log.js';
import { CameraRunner, type CameraConfig } from '../camera.js';
import { describeSpec } from '../source/kinds/describe.js';
import { parseCameraList, type CameraEntry, type Refusal } from './entries.js';
import { FileWatch } from './watch.js';

export interface CameraFleetOptions {
  file: string;
  /** The process's settings: what an entry does not set (size, rate, quality, and everything else). */
  base: CameraConfig;
  bus: FrameBus;
  log: Logger;
}

interface Running {
  key: string;
  runner: CameraRunner;
}

export class CameraFleet {
  /** Entries refused since the start (a refusal counts once for as long as the file keeps it). */
  refusedEntries = 0;
  /** Times the whole file could not be read as a list. */
  unreadableFiles = 0;
  private readonly running = new Map<string, Running>();
  private readonly watch: FileWatch;
  private refusedNow = new Set<string>();
  private lastFileError = '';
  /** One change of the file at a time, in order: a camera is never started twice. */
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly report: NodeJS.Timeout;

  constructor(private readonly o: CameraFleetOptions) {
    this.watch = new FileWatch({
      file: o.file,
      onText: (text) => {
        this.applying = this.applying.then(() => this.apply(text));
      },
      onError: (err) => this.fileError(`cannot read CAMERAS_FILE ${o.file}: ${err.message}`),
    });
    this.report = setInterval(() => this.logStats(), 10_000);
    this.report.unref();
  }

  start(): void {
    this.watch.start();
  }

  /** The ids of the cameras running now. */
  cameras(): string[] {
    return [...this.running.keys()];
  }

  private fileError(message: string): void {
    if (message === this.lastFileError) return;
    this.lastFileError = message;
    this.unreadableFiles++;
    this.o.log.error({ camerasFile: this.o.file, unreadableFiles: this.unreadableFiles }, `${message}; the cameras running go on as they are`);
  }

  private async apply(text: string): Promise<void> {
    if (this.stopped) return;
    let list: { cameras: CameraEntry[]; refused: Refusal[] };
    try {
      list = parseCameraList(`CAMERAS_FILE (${this.o.file})`, text, this.o.base);
    } catch (err) {
      this.fileError((err as Error).message);
      return;
    }
    this.lastFileError = '';
    this.refuse(list.refused);
    const wanted = new Map(list.cameras.map((c) => [c.id, c]));
    // A running camera whose entry is now refused keeps its last good settings.
    const kept = new Set(list.refused.flatMap((r) => (r.id !== undefined && this.running.has(r.id) && !wanted.has(r.id) ? [r.id] : [])));
    const added = [...wanted.values()].filter((c) => !this.running.has(c.id));
    const changes: Promise<void>[] = [];
    for (const [id, run] of this.running) {
      const next = wanted.get(id);
      if (next === undefined && !kept.has(id)) changes.push(this.stopCamera(id, run, 'removed from CAMERAS_FILE'));
      else if (next !== undefined && next.key !== run.key) changes.push(this.stopCamera(id, run, 'changed in CAMERAS_FILE').then(() => this.startCamera(next)));
    }
    for (const entry of added) this.startCamera(entry);
    // Stops run side by side: a source process that takes its 1.5 s to stop holds up no other camera.
    await Promise.all(changes);
  }

  private refuse(refused: Refusal[]): void {
    const now = new Set<string>();
    for (const r of refused) {
      now.add(r.message);
      if (this.refusedNow.has(r.message)) continue;
      this.refusedEntries++;
      const keeps = r.id !== undefined && this.running.has(r.id);
      this.o.log.error(
        { entry: r.entry, field: r.field, refusedEntries: this.refusedEntries, ...(keeps ? { camera: r.id } : {}) },
        `CAMERAS_FILE entry refused: ${r.message}${keeps ? '; the camera keeps running with its previous settings' : ''}`,
      );
    }
    this.refusedNow = now;
  }

  private startCamera(entry: CameraEntry): void {
    if (this.stopped) return;
    const log = this.o.log.child({ camera: entry.id });
    const c = entry.config;
    const size = c.width === 'source' && c.height === 'source' ? 'source' : `${c.width}x${c.height}`;
    log.info({ source: describeSpec(entry.spec), size, fps: c.fps, passthrough: c.passthrough }, 'starting camera');
    const runner = new CameraRunner(entry.config, entry.spec, this.o.bus, log);
    this.running.set(entry.id, { key: entry.key, runner });
    runner.start();
  }

  private async stopCamera(id: string, run: Running, reason: string): Promise<void> {
    this.o.log.info({ camera: id, reason }, 'stopping camera');
    this.running.delete(id);
    await run.runner.stop();
  }

  private logStats(): void {
    this.o.log.info({ cameras: this.running.size, refusedEntries: this.refusedEntries, unreadableFiles: this.unreadableFiles }, 'camera fleet');
  }

  /** Stops watching the file, then every camera at once. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watch.close();
    clearInterval(this.report);
    await this.applying;
    await Promise.all([...this.running].map(([id, run]) => this.stopCamera(id, run, 'shutting down')));
  }
}
