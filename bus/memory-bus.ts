/** The bus in-process, for unit tests: same wire format and semantics as RedisBus, no network. */
import type { CameraInfo, CameraLeases, FrameBus, FrameHandler, Rendition, Unsubscribe } from './bus.js';
import { parseCameraList } from './camera-info.js';
import { checkRendition, newStats } from './bus.js';
import { channels } from './channels.js';
import { decodeFrame, encodeFrame, type Frame } from './frame.js';
import { getOrCreate } from '../lib/maps.js';

export class MemoryBus implements FrameBus, CameraLeases {
  readonly stats = newStats();
  private readonly handlers = new Map<string, Set<FrameHandler>>();
  private readonly latestFrames = new Map<string, { message: Buffer; expiresAt: number }>();
  /** Camera-list entries as JSON, like the Redis keys, so the same checks apply; a Map stands for a key of another type. */
  private readonly infos = new Map<string, { value: string | Map<string, string>; expiresAt: number }>();
  private readonly wakeHandlers = new Map<string, Set<(rendition: Rendition) => void>>();
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();
  private readonly captures = new Map<string, number>();
  private closed = false;

  async publish(frame: Frame, latestTtlMs: number | null, rendition: Rendition = null): Promise<void> {
    if (this.closed) {
      this.stats.publishFailed++;
      throw new Error('bus closed');
    }
    const message = encodeFrame(frame);
    if (latestTtlMs !== null) this.latestFrames.set(channels.latest(frame.camera, rendition), { message, expiresAt: Date.now() + latestTtlMs });
    this.stats.published++;
    this.deliverRaw(frame.camera, message, rendition);
  }

  /** Delivers a raw message as if it came off the wire (tests use it to inject malformed ones). */
  deliverRaw(camera: string, message: Buffer, rendition: Rendition = null): void {
    const set = this.handlers.get(channels.frames(camera, rendition));
    if (!set || set.size === 0) return;
    let frame: Frame;
    try {
      frame = checkRendition(decodeFrame(message), camera, rendition);
    } catch {
      this.stats.malformed++;
      return;
    }
    this.stats.received++;
    for (const h of set) h(frame);
  }

  async subscribe(camera: string, onFrame: FrameHandler, rendition: Rendition = null): Promise<Unsubscribe> {
    const channel = channels.frames(camera, rendition);
    const set = getOrCreate(this.handlers, channel, () => new Set<FrameHandler>());
    set.add(onFrame);
    return async () => {
      set.delete(onFrame);
    };
  }

  async latest(camera: string, rendition: Rendition = null): Promise<Frame | null> {
    const entry = this.latestFrames.get(channels.latest(camera, rendition));
    if (!entry || entry.expiresAt <= Date.now()) return null;
    return decodeFrame(entry.message);
  }

  async announce(info: CameraInfo, ttlMs: number): Promise<void> {
    this.infos.set(info.camera, { value: JSON.stringify(info), expiresAt: Date.now() + ttlMs });
  }

  /** Writes a raw camera-list entry (a Map: a hash where a string belongs), as a foreign or broken writer would (tests). */
  announceRaw(camera: string, value: string | Map<string, string>): void {
    this.infos.set(camera, { value, expiresAt: Infinity });
  }

  async cameras(): Promise<CameraInfo[]> {
    const now = Date.now();
    const entries: Array<[string, string]> = [];
    for (const [camera, { value, expiresAt }] of this.infos) {
      if (expiresAt <= now) this.infos.delete(camera);
      else if (typeof value !== 'string') this.stats.invalidCameraEntries++;
      else entries.push([camera, value]);
    }
    return parseCameraList(entries, () => this.stats.invalidCameraEntries++);
  }

  async watchers(camera: string, rendition: Rendition = null): Promise<number> {
    return this.handlers.get(channels.frames(camera, rendition))?.size ? 1 : 0;
  }

  async requestFrames(camera: string, rendition: Rendition = null): Promise<void> {
    for (const h of this.wakeHandlers.get(camera) ?? []) h(rendition);
  }

  async onFramesRequested(camera: string, onRequest: (rendition: Rendition) => void): Promise<Unsubscribe> {
    const set = getOrCreate(this.wakeHandlers, camera, () => new Set<(rendition: Rendition) => void>());
    set.add(onRequest);
    return async () => {
      set.delete(onRequest);
    };
  }

  async holdLease(camera: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.leases.get(camera);
    if (held && held.owner !== owner && held.expiresAt > Date.now()) return false;
    this.leases.set(camera, { owner, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async releaseLease(camera: string, owner: string): Promise<void> {
    if (this.leases.get(camera)?.owner === owner) this.leases.delete(camera);
  }

  async registerCapture(owner: string, ttlMs: number): Promise<string[]> {
    const now = Date.now();
    this.captures.set(owner, now + ttlMs);
    for (const [o, until] of this.captures) if (until <= now) this.captures.delete(o);
    return [...this.captures.keys()].sort();
  }

  async unregisterCapture(owner: string): Promise<void> {
    this.captures.delete(owner);
  }

  async retireCamera(camera: string): Promise<void> {
    this.infos.delete(camera);
  }

  isReady(): boolean {
    return !this.closed;
  }

  /** Tests freeze the in-process bus to play a stalled Redis. */
  frozen = false;

  async checkReady(): Promise<boolean> {
    return this.isReady() && !this.frozen;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}
