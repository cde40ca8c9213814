/**
 * The cameras of one capture process, kept in step with its CAMERAS_FILE (watch.ts): an entry added is
 * started, one changed is stopped and started again with its new settings, one removed is stopped; the
 * others are not touched. Every camera is a CameraRunner (../camera.ts) on the one bus the process shares:
 * an HTTP camera passed through costs no process, an OpenCV camera has a source process of its own, so a
 * hung or crashed source only ever takes its own camera down (and is replaced, as with one camera).
 *
 * Several capture processes may carry the same file against one Redis: each camera is captured by the one
 * that holds its lease (bus.ts CameraLeases), renewed every quarter of CAMERA_LEASE_MS. A process that
 * dies stops renewing, and another takes its cameras once their leases run out; one that stops cleanly
 * gives them up at once. Renewals run on their own clock, never behind a camera that takes its time to stop.
 * The processes alive register in Redis and spread the cameras between them (spread.ts): a camera's own
 * process asks for its lease at once, any other only after the camera has gone a whole lease unclaimed;
 * a camera running away from home is handed back, a few per tick, once the list of processes has settled
 * and the camera has run here two leases (never to a process that just died).
 *
 * A refused entry (entries.ts) is logged once, naming the entry and the field, and counted; the rest of
 * the list is applied. If the refused entry names a camera that is running, that camera keeps running with
 * its last good settings: a typo in one field must not take a camera off the air. A file that is not a
 * list at all (bad JSON, empty: a write caught halfway) changes nothing.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CameraLeases, FrameBus } from '../../bus/bus.js';
import type { Logger } from '../../lib/log.js';
import { CameraRunner, type CameraConfig } from '../camera.js';
import { describeSpec } from '../source/kinds/describe.js';
import { parseCameraList, type CameraEntry, type Refusal } from './entries.js';
import { Spread } from './spread.js';
import { FileWatch } from './watch.js';

export interface CameraFleetOptions {
  file: string;
  /** The process's settings: what an entry does not set (size, rate, quality, and everything else). */
  base: CameraConfig;
  bus: FrameBus & CameraLeases;
  log: Logger;
  leaseMs: number;
}

interface Running {
  key: string;
  runner: CameraRunner;
  since: number;
}

export class CameraFleet {
  /** Entries refused since the start (a refusal counts once for as long as the file keeps it). */
  refusedEntries = 0;
  /** Times the whole file could not be read as a list. */
  unreadableFiles = 0;
  /** This process in the leases: host, pid and a random part (pids repeat across hosts and restarts). */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  /** The cameras the file asks for (a refused change keeps the entry before it). */
  private wanted = new Map<string, CameraEntry>();
  private readonly running = new Map<string, Running>();
  /** Cameras being started, restarted or stopped: the lease clock leaves them alone meanwhile. */
  private readonly busy = new Set<string>();
  /** Their starts and stops, for stop() to wait for. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Since when a wanted camera has not run here: a process not its home waits a lease before asking. */
  private readonly freeSince = new Map<string, number>();
  private readonly spread: Spread;
  private readonly watch: FileWatch;
  private refusedNow = new Set<string>();
  private lastFileError = '';
  private leaseError = '';
  /** One change of the file at a time, in order. */
  private applying: Promise<void> = Promise.resolve();
  private ticking = false;
  private stopped = false;
  /** Leases renewed, free cameras asked for and the processes alive read this often: a quarter lease. */
  private readonly tickMs: number;
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly report: NodeJS.Timeout;

  constructor(private readonly o: CameraFleetOptions) {
    this.tickMs = Math.max(100, Math.floor(o.leaseMs / 4));
    this.spread = new Spread(this.owner);
    this.watch = new FileWatch({
      file: o.file,
      onText: (text) => {
        this.applying = this.applying.then(() => this.apply(text));
      },
      onError: (err) => this.fileError(`cannot read CAMERAS_FILE ${o.file}: ${err.message}`),
    });
    this.leaseTimer = setInterval(() => void this.tick(), this.tickMs);
    this.leaseTimer.unref();
    this.report = setInterval(() => this.logStats(), 10_000);
    this.report.unref();
  }

  start(): void {
    this.o.log.info({ owner: this.owner, leaseMs: this.o.leaseMs }, 'cameras are taken by lease: one capture process per camera');
    // Registered first, and read again a tick later, so that processes started together (pm2 instances) see
    // each other before the first list is read: each then takes its own cameras, with none to hand back.
    void (async () => {
      await this.register();
      await new Promise((resolve) => setTimeout(resolve, this.tickMs));
      await this.register();
      if (!this.stopped) this.watch.start();
    })();
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
    const wanted = new Map(list.cameras.map((c) => [c.id, c]));
    // A camera whose entry is now refused keeps its last good settings.
    for (const r of list.refused) {
      const before = r.id === undefined ? undefined : this.wanted.get(r.id);
      if (before && !wanted.has(before.id)) wanted.set(before.id, before);
    }
    this.refuse(list.refused);
    this.wanted = wanted;
    const changes: Promise<void>[] = [];
    for (const [id, run] of this.running) {
      const next = wanted.get(id);
      if (next === undefined)
        changes.push(
          this.whileBusy(id, async () => {
            await this.stopCamera(id, run, 'removed from CAMERAS_FILE', true);
            // After its last announcement (one connection, in order): the camera list does not keep it forever.
            await this.o.bus.retireCamera(id).catch(() => undefined);
          }),
        );
      else if (next.key !== run.key)
        changes.push(this.whileBusy(id, () => this.stopCamera(id, run, 'changed in CAMERAS_FILE', false).then(() => this.startCamera(next))));
    }
    for (const id of this.freeSince.keys()) if (!wanted.has(id)) this.freeSince.delete(id);
    for (const entry of wanted.values()) if (!this.running.has(entry.id) && this.mayAsk(entry.id)) changes.push(this.tryStart(entry.id));
    // Side by side: a source process that takes its 1.5 s to stop holds up no other camera.
    await Promise.all(changes);
  }

  private refuse(refused: Refusal[]): void {
    const now = new Set<string>();
    for (const r of refused) {
      now.add(r.message);
      if (this.refusedNow.has(r.message)) continue;
      this.refusedEntries++;
      const keeps = r.id !== undefined && this.wanted.has(r.id);
      this.o.log.error(
        { entry: r.entry, field: r.field, refusedEntries: this.refusedEntries, ...(keeps ? { camera: r.id } : {}) },
        `CAMERAS_FILE entry refused: ${r.message}${keeps ? '; the camera keeps its previous settings' : ''}`,
      );
    }
    this.refusedNow = now;
  }

  private whileBusy(id: string, work: () => Promise<void>): Promise<void> {
    this.busy.add(id);
    const done = work().finally(() => {
      this.busy.delete(id);
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
    return done;
  }

  /** Its home process asks at once; another once the camera has not run here for a whole lease. */
  private mayAsk(id: string): boolean {
    if (this.spread.isMine(id)) return true;
    const since = this.freeSince.get(id) ?? Date.now();
    this.freeSince.set(id, since);
    return Date.now() - since >= this.o.leaseMs;
  }

  private async register(): Promise<void> {
    try {
      this.spread.update(await this.o.bus.registerCapture(this.owner, this.o.leaseMs));
    } catch (err) {
      // Meanwhile the leases decide alone: still one process per camera, only not spread.
      if (this.o.bus.isReady()) this.o.log.warn({ err: (err as Error).message }, 'cannot register among the capture processes in Redis');
    }
  }

  /** Starts the camera if it is still wanted, not running and its lease is ours. */
  private tryStart(id: string): Promise<void> {
    if (this.busy.has(id) || this.running.has(id)) return Promise.resolve();
    return this.whileBusy(id, async () => {
      if (!(await this.lease(id))) return;
      const entry = this.wanted.get(id);
      if (entry && !this.stopped && !this.running.has(id)) {
        this.freeSince.delete(id);
        this.startCamera(entry);
      } else await this.o.bus.releaseLease(id, this.owner).catch(() => undefined);
    });
  }

  /** Holds the camera's lease: true, ours; false, another process holds it; null, Redis did not answer. */
  private async lease(id: string): Promise<boolean | null> {
    try {
      const ok = await this.o.bus.holdLease(id, this.owner, this.o.leaseMs);
      this.leaseError = '';
      return ok;
    } catch (err) {
      // Not connected (yet, or any more): the bus logs its own connection; nothing to add per camera.
      if (!this.o.bus.isReady()) return null;
      const message = (err as Error).message;
      if (message !== this.leaseError)
        this.o.log.warn({ err: message }, 'cannot hold camera leases in Redis; cameras running go on, others start once it answers');
      this.leaseError = message;
      return null;
    }
  }

  /** Renews the leases of the cameras running here, and takes free ones the file asks for. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      await this.register();
      const renewals = [...this.running].map(async ([id, run]) => {
        if (this.busy.has(id)) return;
        // null (Redis did not answer): keep capturing; a publish fails anyway while Redis is away.
        // Not awaited: the next tick's renewals must not wait for a source process to stop (up to 1.5 s).
        if ((await this.lease(id)) === false && this.running.get(id) === run && !this.busy.has(id))
          void this.whileBusy(id, () => this.stopCamera(id, run, 'another capture process holds its lease', false));
      });
      const starts = [...this.wanted.keys()].filter((id) => !this.running.has(id) && this.mayAsk(id)).map((id) => this.tryStart(id));
      this.handBack();
      await Promise.all([...renewals, ...starts]);
    } finally {
      this.ticking = false;
    }
  }

  /** Stops and releases a few cameras whose home is another process, for it to take at its next tick (not awaited, as above). */
  private handBack(): void {
    if (!this.spread.settled || this.spread.size < 2) return;
    const now = Date.now();
    const away = [...this.running].filter(([id, run]) => !this.busy.has(id) && now - run.since >= 2 * this.o.leaseMs && !this.spread.isMine(id));
    for (const [id, run] of away.slice(0, Math.max(1, Math.ceil(this.running.size / 10))))
      void this.whileBusy(id, async () => {
        await this.stopCamera(id, run, `handed to the capture process it belongs to (${this.spread.home(id)})`, true);
        this.freeSince.set(id, Date.now());
      });
  }

  private startCamera(entry: CameraEntry): void {
    if (this.stopped) return;
    const log = this.o.log.child({ camera: entry.id });
    const c = entry.config;
    const size = c.width === 'source' && c.height === 'source' ? 'source' : `${c.width}x${c.height}`;
    log.info({ source: describeSpec(entry.spec), size, fps: c.fps, passthrough: c.passthrough }, 'starting camera');
    const runner = new CameraRunner(entry.config, entry.spec, this.o.bus, log);
    this.running.set(entry.id, { key: entry.key, runner, since: Date.now() });
    runner.start();
  }

  private async stopCamera(id: string, run: Running, reason: string, release: boolean): Promise<void> {
    this.o.log.info({ camera: id, reason }, 'stopping camera');
    this.running.delete(id);
    await run.runner.stop();
    if (release) await this.o.bus.releaseLease(id, this.owner).catch(() => undefined);
  }

  private logStats(): void {
    this.o.log.info(
      { cameras: this.running.size, wanted: this.wanted.size, refusedEntries: this.refusedEntries, unreadableFiles: this.unreadableFiles },
      'camera fleet',
    );
  }

  /** Stops watching the file, then every camera at once, and gives their leases up for another process. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watch.close();
    clearInterval(this.leaseTimer);
    clearInterval(this.report);
    await this.applying;
    await Promise.all([...this.inFlight].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.running].map(([id, run]) => this.stopCamera(id, run, 'shutting down', true)));
    await this.o.bus.unregisterCapture(this.owner).catch(() => undefined);
  }
}
