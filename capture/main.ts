/**
 * camfan capture: one camera (CAMERA_ID on CAPTURE_SOURCE), or every camera of a watched CAMERAS_FILE
 * (cameras/fleet.ts), each a camera runner (camera.ts) publishing to one shared Redis bus; shutdown with a deadline.
 */
import { RedisBus } from '../bus/redis-bus.js';
import { describeTarget, redisTarget } from '../bus/redis-connection.js';
import { createLogger } from '../lib/log.js';
import { installShutdown } from '../lib/shutdown.js';
import { CameraConfigError, CameraRunner, cameraSpec } from './camera.js';
import { CameraFleet } from './cameras/fleet.js';
import { loadCaptureConfigOrExit } from './config.js';
import { describeSpec } from './source/kinds/describe.js';
import type { SourceSpec } from './source/kinds/source.js';

function main(): void {
  const config = loadCaptureConfigOrExit();
  const target = redisTarget(config);
  const camerasFile = config.camerasFile;
  const log = createLogger('capture', config.logLevel, camerasFile ? {} : { camera: config.cameraId });
  let run: { start(): void; stop(): Promise<void> };
  let bus: RedisBus;
  if (camerasFile) {
    log.info({ camerasFile, redis: describeTarget(target) }, 'starting capture of the cameras in CAMERAS_FILE');
    bus = new RedisBus({ target, log });
    run = new CameraFleet({ file: camerasFile, base: config, bus, log, leaseMs: config.cameraLeaseMs });
  } else {
    let spec: SourceSpec;
    try {
      spec = cameraSpec(config);
    } catch (err) {
      if (!(err instanceof CameraConfigError)) throw err;
      // The value itself is not repeated: it may hold credentials (source/kinds/describe.ts).
      log.fatal(err.unreadable ? `CAPTURE_SOURCE (--capture-source) is invalid: ${err.message}` : err.message);
      process.exit(2);
    }
    const size = config.width === 'source' && config.height === 'source' ? 'source' : `${config.width}x${config.height}`;
    const { fps, passthrough } = config;
    log.info({ source: describeSpec(spec), size, fps, passthrough, redis: describeTarget(target) }, 'starting capture');
    bus = new RedisBus({ target, log });
    run = new CameraRunner(config, spec, bus, log);
  }

  const shutdown = installShutdown({
    log,
    deadlineMs: config.shutdownTimeoutMs,
    close: async () => {
      await run.stop();
      await bus.close();
    },
  });
  const connected = bus.connected(config.redisStartupTimeoutMs);
  connected.catch((err: Error) => {
    log.fatal(err.message);
    shutdown('Redis unreachable', 2);
  });
  // A fleet asks Redis for its cameras' leases first: it starts once Redis answers. One camera starts at once.
  if (camerasFile)
    connected.then(
      () => run.start(),
      () => undefined,
    );
  else run.start();
  process.send?.('ready');
}

main();
