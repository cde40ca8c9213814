/**
 * Helpers for unit tests on the in-memory bus (bus/memory-bus.ts): frames, a logger whose lines can be
 * read back, a bus that can hold, fail or count its calls, and a viewer that records what it is offered.
 * No processes, no sockets.
 */
import pino from 'pino';
import type { CameraInfo, Rendition, Unsubscribe, FrameHandler } from '../../bus/bus.js';
import type { AccessOptions } from '../../gateway/access/access.js';
import type { Frame } from '../../bus/frame.js';
import { MemoryBus } from '../../bus/memory-bus.js';
import type { Logger } from '../../lib/log.js';
import type { FramePacket } from '../../gateway/delivery/packet.js';
import { Viewer, type ViewerOptions } from '../../gateway/delivery/viewer.js';

/** A camera entry as a 64x48, 1 fps capture announces it now. */
export function testCameraInfo(camera: string): CameraInfo {
  const now = Date.now();
  return {
    camera,
    source: 'test',
    width: 64,
    height: 48,
    fps: 1,
    targetFps: 1,
    lastFrameAt: now,
    lastFrameBytes: 5,
    idle: false,
    encodeMsP50: null,
    updatedAt: now,
  };
}

/** Access options of a gateway with no credentials, limits or request rate set (tests add what they check). */
export const OPEN_ACCESS: AccessOptions = {
  authToken: '',
  authBasic: '',
  cameraTokens: new Map(),
  operatorToken: '',
  corsOrigins: [],
  allowedHosts: [],
  trustedProxies: [],
  maxViewers: 0,
  maxViewersPerIp: 0,
  requestRatePerIp: 0,
  requestBurstPerIp: 1,
};

/** A small valid frame: SOI, the payload (one byte by default), EOI. */
export function testFrame(camera: string, seq: number, o: { timestamp?: number; payload?: Buffer; width?: number } = {}): Frame {
  const payload = o.payload ?? Buffer.from([seq % 256]);
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8]), payload, Buffer.from([0xff, 0xd9])]);
  return { camera, seq, timestamp: o.timestamp ?? Date.now(), width: o.width ?? 64, height: 48, jpeg };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger writing into an array, so tests can see what was logged and how often. */
export function captureLog(): { log: Logger; lines: LogLine[]; messages: (re: RegExp) => LogLine[] } {
  const lines: LogLine[] = [];
  const sink = {
    write(text: string): void {
      lines.push(JSON.parse(text) as LogLine);
    },
  };
  const log = pino({ level: 'trace' }, sink);
  return { log, lines, messages: (re) => lines.filter((l) => re.test(l.msg)) };
}

/** Lets promise callbacks and setImmediate work (fan-out slices, subscriptions) run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The in-memory bus with handles a test can turn: publishes held until released (a slow Redis), failing
 * (Redis down), a readiness switch, and counts of the calls the code under test made.
 */
export class TestBus extends MemoryBus {
  subscribeCalls = 0;
  latestCalls = 0;
  publishCalls = 0;
  /** While true, publish waits until release() (one held publish per call). */
  holdPublishes = false;
  /** While true, publish and watchers reject as a Redis that is down would. */
  failing = false;
  /** While true, isReady() answers false (a Redis outage as the hub sees it). */
  down = false;
  private readonly held: Array<() => void> = [];

  override publish(frame: Frame, latestTtlMs: number | null, rendition: Rendition = null): Promise<void> {
    this.publishCalls++;
    if (this.failing) return Promise.reject(new Error('Connection is closed.'));
    if (!this.holdPublishes) return super.publish(frame, latestTtlMs, rendition);
    return new Promise((resolve, reject) => this.held.push(() => super.publish(frame, latestTtlMs, rendition).then(resolve, reject)));
  }

  /** Lets the oldest held publish go through. */
  release(): void {
    this.held.shift()?.();
  }

  override subscribe(camera: string, onFrame: FrameHandler, rendition: Rendition = null): Promise<Unsubscribe> {
    this.subscribeCalls++;
    return super.subscribe(camera, onFrame, rendition);
  }

  override latest(camera: string, rendition: Rendition = null): Promise<Frame | null> {
    this.latestCalls++;
    return super.latest(camera, rendition);
  }

  override watchers(camera: string, rendition: Rendition = null): Promise<number> {
    if (this.failing) return Promise.reject(new Error('Connection is closed.'));
    return super.watchers(camera, rendition);
  }

  override isReady(): boolean {
    return !this.down && super.isReady();
  }
}

/**
 * A viewer whose transport is an array: every packet it transmits is recorded. With `hold`, a transmitted
 * packet stays in flight until take(), as on a socket that has not drained yet.
 */
export class FakeViewer extends Viewer {
  readonly got: FramePacket[] = [];
  protected readonly sentShows = 'mjpeg';
  hold = false;
  gone = false;
  private inFlight: FramePacket | null = null;
  private shut = false;

  constructor(camera: string, options: ViewerOptions = {}) {
    super(camera, options);
  }

  get closed(): boolean {
    return this.shut;
  }

  /** Sequence numbers of the camera frames received (placeholders as 'P'). */
  get seqs(): Array<number | 'P'> {
    return this.got.map((p) => (p.placeholder ? 'P' : p.frame.seq));
  }

  protected busy(): boolean {
    return this.inFlight !== null;
  }

  protected transmit(packet: FramePacket): void {
    this.got.push(packet);
    if (this.hold) this.inFlight = packet;
    else this.sent(packet, packet.frame.jpeg.length);
  }

  /** The transport took the frame in flight: the one waiting, if any, goes next. */
  take(): void {
    const packet = this.inFlight;
    if (packet === null) return;
    this.inFlight = null;
    this.sent(packet, packet.frame.jpeg.length);
    this.sendPending();
  }

  blockedFor(): number {
    return 0;
  }

  end(): void {
    this.ending = true;
    if (this.inFlight === null) this.shut = true;
  }

  close(): void {
    this.shut = true;
  }

  cameraGone(): void {
    this.gone = true;
    this.shut = true;
  }

  snapshot(): Record<string, unknown> {
    return this.figures();
  }
}
