/**
 * pm2 runs camfan: `npx pm2 start ecosystem.config.js` (npm start / npm stop wrap it).
 *
 * - camfan-redis: a local redis-server, only when neither REDIS_URL nor REDIS_CLUSTER_NODES is set (port LOCAL_REDIS_PORT, default
 *   6390, so it never fights a system Redis on 6379).
 * - camfan-capture-<camera>: one capture per camera (CAMERAS / CAMERAS_FILE, see scripts/cameras.js), fork mode.
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
const redisUrl = env.REDIS_URL || `redis://127.0.0.1:${localRedisPort}`;
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

if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
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

for (const cam of cameras) {
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
  env: {
    PORT: env.PORT || '8080',
    HOST: env.HOST || '0.0.0.0',
    REDIS_URL: redisUrl,
    DEFAULT_CAMERA: env.DEFAULT_CAMERA || cameras[0].id,
  },
});

module.exports = { apps };
