/**
 * One camera inside a capture process: its publisher, its source (an HTTP camera passed through in this
 * process, or a source process of its own for OpenCV) and its viewer demand, on a bus it shares with the
 * process's other cameras. main.ts runs one (CAPTURE_SOURCE) or the camera fleet (cameras/fleet.ts) many.
 */
import type { FrameBus } from '../bus/bus.js';
import type { Logger } from '../lib/log.js';
import type { CaptureConfig } from './config.js';
import { Demand } from './demand.js';
import { mayPassThrough } from './output.js';
import { Publisher } from './publish/publisher.js';
import { InProcessPassthrough, type SourceRunner } from './source/in-process.js';
import { describeSpec, secretsOf } from './source/kinds/describe.js';
import { isHttpSource, parseSourceSpec, SourceError, type SourceSpec } from './source/kinds/source.js';
import { SourceProcess } from './source/supervisor.js';

/** What one camera takes of the capture settings: its own id, source, size, rate and quality, and the rest shared. */
export type CameraConfig = CaptureConfig;

/** Why a camera's configuration cannot run, naming the field (the value is not repeated: it may hold credentials). */
export class CameraConfigError extends Error {
  constructor(
    readonly field: 'source',
    message: string,
    /** The source is not one camfan can read (else: it cannot be passed through as CAPTURE_PASSTHROUGH=on asks). */
    readonly unreadable: boolean,
  ) {
    super(message);
  }
}

/** The source parsed and checked against CAPTURE_PASSTHROUGH; throws CameraConfigError. */
export function cameraSpec(config: CameraConfig): SourceSpec {
  let spec: SourceSpec;
  try {
    spec = parseSourceSpec(config.source);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    throw new CameraConfigError('source', err.message, true);
  }
  if (config.passthrough === 'on' && !mayPassThrough(spec))
    throw new CameraConfigError(
      'source',
      `CAPTURE_PASSTHROUGH=on needs a source that sends JPEG (an http(s):// MJPEG stream or a V4L2 camera), not ${describeSpec(spec)}`,
      false,
    );
  return spec;
}

export class CameraRunner {
  readonly publisher: Publisher;
  private readonly source: SourceRunner;
  private readonly demand: Demand;
  private readonly report: NodeJS.Timeout;
  private stopping: Promise<void> | null = null;

  constructor(
    readonly config: CameraConfig,
    spec: SourceSpec,
    bus: FrameBus,
    private readonly log: Logger,
  ) {
    const description = describeSpec(spec);
    this.publisher = new Publisher({
      bus,
      log,
      latestTtlMs: config.latestTtlMs,
      latestEveryMs: config.latestEveryMs,
      dropSameFrames: config.dropSameFrames === 'on',
      keepAliveMs: config.keepAliveMs,
      maxFrameBytes: config.maxFrameBytes,
      idleFps: config.idleFps,
      cameraGoneMs: config.cameraGoneMs,
      // 0 until the first frame when the size is the source's own.
      info: { camera: config.cameraId, source: description, width: Number(config.width) || 0, height: Number(config.height) || 0, targetFps: config.fps },
    });
    const publisher = this.publisher;
    // Only what the source process needs: Redis URLs and their passwords stay here.
    const { width, height, fps, idleFps, jpegQuality, passthrough, maxFrameBytes, stallTimeoutMs, redirects, retryMaxMs, logLevel } = config;
    const init = {
      camera: config.cameraId,
      spec,
      width,
      height,
      fps,
      idleFps,
      jpegQuality,
      passthrough,
      maxFrameBytes,
      stallTimeoutMs,
      redirects,
      retryMaxMs,
      logLevel,
    };
    const secrets = secretsOf(config.source);
    const onMode = (mode: 'passthrough' | 'transcode'): void => publisher.setMode(mode);
    const sourceProcess = (startSeq = 0): SourceProcess =>
      new SourceProcess({ init, sink: publisher, log, description, secrets, openTimeoutMs: config.openTimeoutMs, onMode, startSeq });
    // An HTTP camera is read here first (in-process.ts): passed through, it never needs a source process.
    this.source =
      isHttpSource(spec) && passthrough !== 'off'
        ? new InProcessPassthrough({
            camera: config.cameraId,
            url: spec.url,
            output: { passthrough, width, height, jpegQuality },
            fps,
            idleFps,
            maxFrameBytes,
            stallTimeoutMs,
            redirects,
            retryMaxMs,
            sink: publisher,
            log,
            logLevel,
            onMode,
            handOff: sourceProcess,
          })
        : sourceProcess();
    // Full rate while anyone watches the camera or one of its renditions; renditions only while watched.
    this.demand = new Demand({
      bus,
      camera: config.cameraId,
      log,
      widths: config.renditionWidths,
      onChange: (state) => {
        this.source.setDemand(state);
        publisher.setDemand(state);
      },
    });
    this.report = setInterval(() => this.logStats(), 10_000);
    this.report.unref();
  }

  start(): void {
    this.demand.start().catch((err: Error) => this.log.warn({ err: err.message }, 'cannot watch for viewers; staying at full rate'));
    this.source.start();
  }

  private logStats(): void {
    const p = this.publisher;
    this.log.info(
      {
        fps: p.measuredFps,
        published: p.published,
        encodeMsP50: p.encodeMedianMs(),
        droppedRedisBusy: p.droppedBusy,
        droppedSame: p.droppedSame,
        droppedTooBig: p.droppedTooBig,
        idle: p.idle,
        droppedRedisDown: p.droppedDown,
      },
      'capture stats',
    );
    const r = p.renditions;
    if (r.published > 0)
      this.log.info(
        {
          renditions: r.list(),
          published: r.published,
          encodeMsP50: r.encodeMedianMs(),
          droppedRedisBusy: r.droppedBusy,
          droppedSame: r.droppedSame,
          droppedTooBig: r.droppedTooBig,
          droppedRedisDown: r.droppedDown,
        },
        'rendition stats',
      );
  }

  /** Stops watching for viewers, the source (its process too) and the publisher; the bus stays open for the others. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.report);
      await this.demand.close();
      await this.source.stop();
      this.publisher.close();
    })();
    return this.stopping;
  }
}
