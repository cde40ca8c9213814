/**
 * pm2 runs camfan: `npx pm2 start ecosystem.config.js` (npm start / npm stop wrap it).
 *
 * - camfan-redis: a local redis-server, only when none of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_REPLICA_OF is set (port LOCAL_REDIS_PORT, default
 *   6390, so it never fights a system Redis on 6379).
 * - camfan-redis-replica: with REDIS_REPLICA_OF=host:port, a local replica of that Redis (port REDIS_REPLICA_PORT, default
 *   6380, bound to REDIS_REPLICA_BIND, default 127.0.0.1). The gateways read frames from it (REDIS_SUBSCRIBE_URL) and write
 *   to REDIS_URL (default: redis://REDIS_REPLICA_OF): the primary sends each frame once per host, not once per gateway
 *   process. host:port may itself be a replica (a second tier of the tree).
 * - camfan-capture-<camera>: one capture per camera of CAMERAS (see scripts/cameras.js), or the one camera CAMERA_ID on
 *   CAPTURE_SOURCE, fork mode.
 * - camfan-capture: with CAMERAS_FILE instead, CAPTURE_INSTANCES (default 1) capture processes that carry the cameras of
 *   the file between them (a lease per camera in Redis: each camera captured once, a dead process's cameras taken over)
 *   and watch it: an entry added, changed or removed starts, restarts or stops that camera alone
 *   (capture/cameras/fleet.ts), with no pm2 command. The file is checked here first, so npm start refuses a bad one as
 *   it always did.
 * - camfan-gateway: GATEWAY_INSTANCES processes (default: the number of cores) in fork mode, all on PORT.
 *   uWebSockets.js listens with SO_REUSEPORT, so the kernel spreads connections over them; pm2's
 *   cluster mode would not help uWS. Each process says 'ready' once it listens (wait_ready).
 *
 * kill_timeout (6 s) is longer than each process's own shutdown deadline (SHUTDOWN_TIMEOUT_MS, 4 s).
 */
const os = require('node:os');
const path = require('node:path');
const { camerasFromEnv } = require('./scripts/cameras.js');

const env = process.env;
const localRedisPort = Number(env.LOCAL_REDIS_PORT || 6390);
const replicaOf = replicaTarget(env.REDIS_REPLICA_OF);
const replicaPort = Number(env.REDIS_REPLICA_PORT || 6380);
const redisUrl = env.REDIS_URL || (replicaOf ? `redis://${replicaOf.host}:${replicaOf.port}` : `redis://127.0.0.1:${localRedisPort}`);
/** With a local replica, gateways read from it first, then from whatever REDIS_SUBSCRIBE_URL lists, then REDIS_URL. */
const subscribeUrl = [replicaOf ? `redis://127.0.0.1:${replicaPort}` : '', env.REDIS_SUBSCRIBE_URL || ''].filter(Boolean).join(',');
const gatewayInstances = Number(env.GATEWAY_INSTANCES || (os.availableParallelism ? os.availableParallelism() : os.cpus().length));
const cameras = camerasFromEnv(env);

const common = {
  cwd: __dirname,
  exec_mode: 'fork',
  autorestart: true,
  restart_delay: 1000,
  kill_timeout: 6000,
  merge_logs: false,
  time: false,
};

const apps = [];

/**
 * @param {string | undefined} raw host:port
 * @returns {{ host: string, port: number } | null}
 */
function replicaTarget(raw) {
  if (!raw) return null;
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw.trim());
  if (!m) throw new Error(`REDIS_REPLICA_OF = ${JSON.stringify(raw)} is invalid: expected host:port of the Redis to replicate`);
  if (env.REDIS_CLUSTER_NODES) throw new Error('REDIS_REPLICA_OF cannot be used with REDIS_CLUSTER_NODES');
  return { host: m[1], port: Number(m[2]) };
}

if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES && !replicaOf) {
  apps.push({
    ...common,
    name: 'camfan-redis',
    script: 'redis-server',
    interpreter: 'none',
    // Frames are only worth their latest value: no persistence. A gateway falling behind by more than the
    // pubsub output buffer is cut off by Redis; 256 MB leaves minutes of margin at HD bitrates.
    args: ['--port', String(localRedisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--client-output-buffer-limit', 'pubsub 256mb 64mb 60'],
  });
}

if (replicaOf) {
  apps.push({
    ...common,
    name: 'camfan-redis-replica',
    script: 'redis-server',
    interpreter: 'none',
    // No persistence, as on the primary. Its gateways (pubsub) and replicas of it (a second tier) may fall
    // 256 MB behind before they are cut off. A replica of it that lost its link resumes from the backlog,
    // which it then replays to its gateways at once: 8 MB keeps that burst of old frames to a few seconds
    // of one HD camera; a longer gap takes a full sync, which carries only the latest-frame keys.
    args: [
      '--port',
      String(replicaPort),
      '--bind',
      env.REDIS_REPLICA_BIND || '127.0.0.1',
      '--replicaof',
      replicaOf.host,
      String(replicaOf.port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-backlog-size',
      '8mb',
      // Straight into memory, also on a resync: a replica never writes dump.rdb into its working directory.
      '--repl-diskless-load',
      'swapdb',
      '--client-output-buffer-limit',
      'pubsub 256mb 64mb 60',
      '--client-output-buffer-limit',
      'replica 256mb 64mb 60',
    ],
  });
}

if (env.CAMERAS_FILE) {
  apps.push({
    ...common,
    name: 'camfan-capture',
    script: path.join(__dirname, 'dist/capture/main.js'),
    instances: Number(env.CAPTURE_INSTANCES || 1),
    wait_ready: true,
    listen_timeout: 15000,
    // Every camera of the file lives in this one process: a restart for memory would take them all off the air,
    // so the limit only guards against a leak (a passed-through camera costs a few MB; OpenCV sources are children).
    max_memory_restart: '2G',
    env: { CAMERAS_FILE: path.resolve(env.CAMERAS_FILE), REDIS_URL: redisUrl },
  });
}

for (const cam of env.CAMERAS_FILE ? [] : cameras) {
  apps.push({
    ...common,
    name: `camfan-capture-${cam.id}`,
    script: path.join(__dirname, 'dist/capture/main.js'),
    instances: 1,
    wait_ready: true,
    listen_timeout: 15000,
    max_memory_restart: '512M',
    env: {
      CAMERA_ID: cam.id,
      CAPTURE_SOURCE: cam.source,
      ...(cam.width ? { CAPTURE_WIDTH: String(cam.width) } : {}),
      ...(cam.height ? { CAPTURE_HEIGHT: String(cam.height) } : {}),
      ...(cam.fps ? { CAPTURE_FPS: String(cam.fps) } : {}),
      ...(cam.quality ? { JPEG_QUALITY: String(cam.quality) } : {}),
      // pm2 passes its own environment on: a CAMERAS_FILE there would make this capture carry a whole list.
      CAMERAS_FILE: '',
      REDIS_URL: redisUrl,
    },
  });
}

apps.push({
  ...common,
  name: 'camfan-gateway',
  script: path.join(__dirname, 'dist/gateway/main.js'),
  instances: gatewayInstances,
  wait_ready: true,
  listen_timeout: 15000,
  max_memory_restart: '1G',
  // Each process's own metrics port (PORT is shared): pm2 gives instance i METRICS_PORT + i.
  ...(env.METRICS_PORT ? { increment_var: 'METRICS_PORT' } : {}),
  env: {
    PORT: env.PORT || '8080',
    ...(env.METRICS_PORT ? { METRICS_PORT: env.METRICS_PORT } : {}),
    HOST: env.HOST || '0.0.0.0',
    REDIS_URL: redisUrl,
    ...(subscribeUrl ? { REDIS_SUBSCRIBE_URL: subscribeUrl } : {}),
    DEFAULT_CAMERA: env.DEFAULT_CAMERA || cameras[0].id,
  },
});

module.exports = { apps };
