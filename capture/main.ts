/** camfan capture: config -> source -> pipeline -> publisher -> Redis; shutdown with a deadline. */
import { RedisBus } from '../bus/redis-bus.js';
import { describeTarget, redisTarget } from '../bus/redis-connection.js';
import { createLogger } from '../lib/log.js';
import { installShutdown } from '../lib/shutdown.js';
import { loadCaptureConfigOrExit } from './config.js';
import { Demand } from './demand.js';
import { CapturePipeline } from './pipeline.js';
import { Publisher } from './publisher.js';
import { createSource, SourceError } from './sources/index.js';

function main(): void {
  const config = loadCaptureConfigOrExit();
  const log = createLogger('capture', config.logLevel, { camera: config.cameraId });
  let created: ReturnType<typeof createSource>;
  try {
    created = createSource({ camera: config.cameraId, ...config });
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    log.fatal(`CAPTURE_SOURCE (--capture-source) = ${JSON.stringify(config.source)} is invalid: ${err.message}`);
    process.exit(2);
  }
  const { source, live } = created;

  const target = redisTarget(config.redisUrl, config.redisClusterNodes);
  log.info({ source: source.description, requested: config.source, size: `${config.width}x${config.height}`, fps: config.fps, redis: describeTarget(target) }, 'starting capture');
  const bus = new RedisBus({ target, log });
  const publisher = new Publisher({
    bus,
    log,
    latestTtlMs: config.latestTtlMs,
    dropSameFrames: config.dropSameFrames === 'on',
    keepAliveMs: config.keepAliveMs,
    maxFrameBytes: config.maxFrameBytes,
    info: { camera: config.cameraId, source: source.description, width: config.width, height: config.height, targetFps: config.fps },
  });
  const pipeline = new CapturePipeline({ ...config, camera: config.cameraId, source, live, publisher, log });
  const demand = new Demand(bus, config.cameraId, log, (watching) => {
    pipeline.setWatching(watching);
    publisher.idle = pipeline.isIdle;
  });
  demand.start().catch((err: Error) => log.warn({ err: err.message }, 'cannot watch for viewers; staying at full rate'));
  pipeline.start();

  const report = setInterval(() => {
    log.info({ fps: publisher.measuredFps, published: publisher.published, encodeMsP50: publisher.encodeMedianMs(), droppedRedisBusy: publisher.droppedBusy, droppedSame: publisher.droppedSame, droppedTooBig: publisher.droppedTooBig, idle: pipeline.isIdle, droppedRedisDown: publisher.droppedDown }, 'capture stats');
  }, 10_000);
  report.unref();

  installShutdown({
    log,
    deadlineMs: config.shutdownTimeoutMs,
    close: async () => {
      clearInterval(report);
      await demand.close();
      await pipeline.stop();
      publisher.close();
      await bus.close();
    },
  });
  process.send?.('ready');
}

main();
