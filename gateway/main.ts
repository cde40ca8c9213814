/** camfan gateway: config -> Redis bus -> camera hub -> uWebSockets.js routes -> listen; shutdown with a deadline. */
import { RedisBus } from '../bus/redis-bus.js';
import { describeTarget, redisTarget } from '../bus/redis-connection.js';
import { createLogger } from '../lib/log.js';
import { installShutdown } from '../lib/shutdown.js';
import { Access } from './access/access.js';
import { Capacity } from './ops/capacity.js';
import { deliveryBusyMs } from './delivery/delivery-time.js';
import { CameraHub } from './delivery/hub.js';
import { loadGatewayConfigOrExit } from './config.js';
import { RefusalCounts } from './http/refusals.js';
import { Refuser } from './http/refuser.js';
import { installRoutes } from './http/routes.js';
import { createMetrics } from './ops/metrics.js';
import { DeliveryTally } from './ops/viewer-age.js';
import { installWebSocket } from './http/ws.js';
import { loadNativeUws, type us_listen_socket } from './http/uws.js';

/** How long a shutting-down gateway keeps serving pages it told to move: a new socket opens in tens of ms. */
const MOVE_GRACE_MS = 1500;

function main(): void {
  const config = loadGatewayConfigOrExit();
  const log = createLogger('gateway', config.logLevel);
  let uWS: ReturnType<typeof loadNativeUws>;
  try {
    uWS = loadNativeUws();
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(1);
  }

  let target: ReturnType<typeof redisTarget>;
  try {
    target = redisTarget(config);
  } catch (err) {
    process.stderr.write(`camfan gateway: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const bus = new RedisBus({ target, log });
  const hub = new CameraHub({ ...config, bus, log });
  const access = new Access({ ...config, maxViewers: config.maxViewers === 'auto' ? 0 : config.maxViewers });
  log.info({ access: access.describe(), maxViewers: config.maxViewers }, 'access control');
  const observer = new DeliveryTally();
  const capacity = new Capacity({
    auto: config.maxViewers === 'auto',
    maxLoad: config.autoMaxLoad,
    maxBackedUp: config.autoMaxBackedUp,
    deliveries: () => observer.count,
    deliveryBusyMs,
    backlog: () => hub.backlog(),
  });
  const refuser = new Refuser(new RefusalCounts(), access, log);
  const metrics = createMetrics(hub, bus, refuser.counts, capacity, observer, config.staleViewerMs);
  const app = uWS.App();
  const webSockets = installWebSocket(app, { hub, access, capacity, refuser, log, observer, renditionWidths: config.renditionWidths });
  installRoutes(app, {
    hub,
    bus,
    access,
    capacity,
    refuser,
    observer,
    log,
    metrics,
    defaultCamera: config.defaultCamera,
    renditionWidths: config.renditionWidths,
  });

  let listenSocket: us_listen_socket | null = null;
  let metricsSocket: us_listen_socket | null = null;
  app.listen(config.host, config.port, (socket) => {
    if (!socket) {
      log.fatal(
        { port: config.port, host: config.host },
        `PORT (--port) = ${config.port}: cannot listen on ${config.host}:${config.port} (in use by a process without SO_REUSEPORT, or not permitted)`,
      );
      process.exit(1);
    }
    listenSocket = socket;
    log.info(
      {
        url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/`,
        redis: describeTarget(target),
        defaultCamera: config.defaultCamera,
      },
      'gateway listening',
    );
    // The metrics port is this process's own, so a scrape of it reaches this process and no other.
    if (config.metricsPort === 0) return void process.send?.('ready');
    app.listen(config.host, config.metricsPort, (own) => {
      if (!own) {
        log.fatal(
          { metricsPort: config.metricsPort },
          `METRICS_PORT (--metrics-port) = ${config.metricsPort}: cannot listen on ${config.host}:${config.metricsPort}`,
        );
        process.exit(1);
      }
      metricsSocket = own;
      log.info({ metricsPort: config.metricsPort }, 'metrics port listening');
      process.send?.('ready');
    });
  });

  const shutdown = installShutdown({
    log,
    deadlineMs: config.shutdownTimeoutMs,
    close: async () => {
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
      if (metricsSocket) uWS.us_listen_socket_close(metricsSocket);
      metricsSocket = null;
      // Pages move to another gateway before this one stops delivering (a deploy is then no gap for them).
      if (webSockets.moveAll() > 0) await webSockets.gone(Math.min(MOVE_GRACE_MS, config.shutdownTimeoutMs / 3));
      hub.close();
      capacity.close();
      await hub.endAll(Math.min(1000, config.shutdownTimeoutMs / 2));
      await bus.close();
    },
  });
  bus.connected(config.redisStartupTimeoutMs).catch((err: Error) => {
    log.fatal(err.message);
    shutdown('Redis unreachable', 2);
  });
}

main();
