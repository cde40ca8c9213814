/** camfan capture: config -> source process (OpenCV) -> publisher -> Redis; shutdown with a deadline. */
import { RedisBus } from '../bus/redis-bus.js';
import { describeTarget, redisTarget } from '../bus/redis-connection.js';
import { createLogger } from '../lib/log.js';
import { installShutdown } from '../lib/shutdown.js';
import { loadCaptureConfigOrExit } from './config.js';
import { Demand } from './demand.js';
import { Publisher } from './publisher.js';
import { SourceProcess } from './source-process.js';
import { describeSpec, parseSourceSpec, SourceError, type SourceSpec } from './sources/source.js';

function main(): void {
  const config = loadCaptureConfigOrExit();
  const log = createLogger('capture', config.logLevel, { camera: config.cameraId });
  let spec: SourceSpec;
  try {
    spec = parseSourceSpec(config.source);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    log.fatal(`CAPTURE_SOURCE (--capture-source) = ${JSON.stringify(config.source)} is invalid: ${err.message}`);
    process.exit(2);
  }
  const description = describeSpec(spec);

  const target = redisTarget(config);
  log.info({ source: description, requested: config.source, size: `${config.width}x${config.height}`, fps: config.fps, redis: describeTarget(target) }, 'starting capture');
  const bus = new RedisBus({ target, log });
  const publisher = new Publisher({
    bus,
    log,
    latestTtlMs: config.latestTtlMs,
    dropSameFrames: config.dropSameFrames === 'on',
    keepAliveMs: config.keepAliveMs,
    maxFrameBytes: config.maxFrameBytes,
    info: { camera: config.cameraId, source: description, width: config.width, height: config.height, targetFps: config.fps },
  });
  // Only what the source process needs: Redis URLs and their passwords stay here.
  const { width, height, fps, idleFps, jpegQuality, stallTimeoutMs, retryMaxMs, logLevel } = config;
  const init = { camera: config.cameraId, source: config.source, width, height, fps, idleFps, jpegQuality, stallTimeoutMs, retryMaxMs, logLevel };
  const source = new SourceProcess({ init, sink: publisher, log, description, openTimeoutMs: config.openTimeoutMs });
  const demand = new Demand(bus, config.cameraId, log, (watching) => {
    source.setWatching(watching);
    publisher.idle = !watching && config.idleFps > 0;
  });
  demand.start().catch((err: Error) => log.warn({ err: err.message }, 'cannot watch for viewers; staying at full rate'));

  const report = setInterval(() => {
    log.info({ fps: publisher.measuredFps, published: publisher.published, encodeMsP50: publisher.encodeMedianMs(), droppedRedisBusy: publisher.droppedBusy, droppedSame: publisher.droppedSame, droppedTooBig: publisher.droppedTooBig, idle: publisher.idle, droppedRedisDown: publisher.droppedDown }, 'capture stats');
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
