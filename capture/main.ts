/** camfan capture: config -> source process (OpenCV), or an HTTP camera passed through here -> publisher -> Redis, plus the renditions being watched; shutdown with a deadline. */
import { RedisBus } from '../bus/redis-bus.js';
import { describeTarget, redisTarget } from '../bus/redis-connection.js';
import { createLogger } from '../lib/log.js';
import { installShutdown } from '../lib/shutdown.js';
import { loadCaptureConfigOrExit } from './config.js';
import { Demand } from './demand.js';
import { Publisher } from './publish/publisher.js';
import { InProcessPassthrough, type SourceRunner } from './source/in-process.js';
import { SourceProcess } from './source/supervisor.js';
import { mayPassThrough } from './output.js';
import { secretsOf } from './source/kinds/describe.js';
import { describeSpec } from './source/kinds/describe.js';
import { isHttpSource, parseSourceSpec, SourceError, type SourceSpec } from './source/kinds/source.js';

function main(): void {
  const config = loadCaptureConfigOrExit();
  const log = createLogger('capture', config.logLevel, { camera: config.cameraId });
  let spec: SourceSpec;
  try {
    spec = parseSourceSpec(config.source);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    // The value itself is not repeated: it may hold credentials (source/kinds/describe.ts).
    log.fatal(`CAPTURE_SOURCE (--capture-source) is invalid: ${err.message}`);
    process.exit(2);
  }
  const description = describeSpec(spec);
  if (config.passthrough === 'on' && !mayPassThrough(spec)) {
    log.fatal(`CAPTURE_PASSTHROUGH=on needs a source that sends JPEG (an http(s):// MJPEG stream or a V4L2 camera), not ${description}`);
    process.exit(2);
  }

  const target = redisTarget(config);
  const size = config.width === 'source' && config.height === 'source' ? 'source' : `${config.width}x${config.height}`;
  log.info({ source: description, size, fps: config.fps, passthrough: config.passthrough, redis: describeTarget(target) }, 'starting capture');
  const bus = new RedisBus({ target, log });
  const publisher = new Publisher({
    bus,
    log,
    latestTtlMs: config.latestTtlMs,
    latestEveryMs: config.latestEveryMs,
    dropSameFrames: config.dropSameFrames === 'on',
    keepAliveMs: config.keepAliveMs,
    maxFrameBytes: config.maxFrameBytes,
    idleFps: config.idleFps,
    // 0 until the first frame when the size is the source's own.
    info: { camera: config.cameraId, source: description, width: Number(config.width) || 0, height: Number(config.height) || 0, targetFps: config.fps },
  });
  // Only what the source process needs: Redis URLs and their passwords stay here.
  const { width, height, fps, idleFps, jpegQuality, passthrough, maxFrameBytes, stallTimeoutMs, retryMaxMs, logLevel } = config;
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
    retryMaxMs,
    logLevel,
  };
  const secrets = secretsOf(config.source);
  const onMode = (mode: 'passthrough' | 'transcode'): void => publisher.setMode(mode);
  const sourceProcess = (startSeq = 0): SourceProcess =>
    new SourceProcess({ init, sink: publisher, log, description, secrets, openTimeoutMs: config.openTimeoutMs, onMode, startSeq });
  // An HTTP camera is read here first (in-process.ts): passed through, it never needs a source process.
  const source: SourceRunner =
    isHttpSource(spec) && passthrough !== 'off'
      ? new InProcessPassthrough({
          camera: config.cameraId,
          url: spec.url,
          output: { passthrough, width, height, jpegQuality },
          fps,
          idleFps,
          maxFrameBytes,
          stallTimeoutMs,
          retryMaxMs,
          sink: publisher,
          log,
          logLevel,
          onMode,
          handOff: sourceProcess,
        })
      : sourceProcess();
  // Full rate while anyone watches the camera or one of its renditions; renditions only while watched.
  const demand = new Demand({
    bus,
    camera: config.cameraId,
    log,
    widths: config.renditionWidths,
    onChange: (state) => {
      source.setDemand(state);
      publisher.setDemand(state);
    },
  });
  demand.start().catch((err: Error) => log.warn({ err: err.message }, 'cannot watch for viewers; staying at full rate'));

  const report = setInterval(() => {
    log.info(
      {
        fps: publisher.measuredFps,
        published: publisher.published,
        encodeMsP50: publisher.encodeMedianMs(),
        droppedRedisBusy: publisher.droppedBusy,
        droppedSame: publisher.droppedSame,
        droppedTooBig: publisher.droppedTooBig,
        idle: publisher.idle,
        droppedRedisDown: publisher.droppedDown,
      },
      'capture stats',
    );
    const r = publisher.renditions;
    if (r.published > 0)
      log.info(
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
  }, 10_000);
  report.unref();

  const shutdown = installShutdown({
    log,
    deadlineMs: config.shutdownTimeoutMs,
    close: async () => {
      clearInterval(report);
      await demand.close();
      await source.stop();
      publisher.close();
      await bus.close();
    },
  });
  source.start();
  bus.connected(config.redisStartupTimeoutMs).catch((err: Error) => {
    log.fatal(err.message);
    shutdown('Redis unreachable', 2);
  });
  process.send?.('ready');
}

main();
