/** The gateway process's settings: env vars or --flags, each with its default and one line of doc. */
import {
  basicCredentials,
  cameraId,
  cameraTokenList,
  commonSettings,
  loadOrExit,
  integer,
  loadSettings,
  matching,
  number,
  originList,
  redisUrlList,
  secret,
  type Settings,
} from '../lib/settings.js';
import { redactToken, redactUrlListText } from '../lib/redact.js';
import { addressRangeList, type AddressRange } from './access/client-address.js';
import { hostList } from './access/origins.js';
import { MIN_BACKED_UP } from './ops/link.js';

export const gatewaySettings = {
  port: { env: 'PORT', doc: 'HTTP port; every gateway instance on a host listens on it (SO_REUSEPORT)', default: 8080, parse: integer(1, 65535) },
  metricsPort: {
    env: 'METRICS_PORT',
    doc: "also listen on this port, this process alone (PORT is shared: SO_REUSEPORT), so that Prometheus scrapes every process's /metrics; with pm2 instance i gets METRICS_PORT + i (0: off)",
    default: 0,
    parse: integer(0, 65535),
  },
  host: { env: 'HOST', doc: 'address to listen on', default: '0.0.0.0', parse: matching(/^[0-9A-Za-z.:-]+$/, 'an IPv4/IPv6 address or host name') },
  defaultCamera: { env: 'DEFAULT_CAMERA', doc: 'camera served at /video_feed and shown first at /', default: 'cam0', parse: cameraId },
  liveTimeoutMs: {
    env: 'LIVE_TIMEOUT_MS',
    doc: 'a camera whose last frame is older than this has no live picture (snapshot 503, /api/cameras live=false)',
    default: 3000,
    parse: integer(200, 600000),
  },
  unsubscribeLingerMs: {
    env: 'UNSUBSCRIBE_LINGER_MS',
    doc: 'keep a camera subscribed this long after its last viewer leaves (absorbs page reloads)',
    default: 2000,
    parse: integer(0, 600000),
  },
  stallCloseMs: {
    env: 'STALL_CLOSE_MS',
    doc: "close a viewer whose connection has taken no byte for this long, counted from the first write its socket refused (closed within a second after; counted in camfan_viewers_stall_closed_total). A client that stops reading is seen only once the kernel's buffers for its connection are full, about 4 MB on Linux (net.ipv4.tcp_wmem and the client's receive buffer): it is closed that much video later (measured on loopback with 5000: a 640×480 30 fps stream of 13 KB frames filled them in 10.4 s, and the viewer was closed 5.5 s after, 15.9 s after it stopped reading). A /ws viewer with acks counts from its oldest unacknowledged frame instead",
    default: 30000,
    parse: integer(500, 600000),
  },
  staleViewerMs: {
    env: 'STALE_VIEWER_MS',
    doc: "a viewer whose newest frame (acknowledged, or handed to its socket) was captured longer ago than this counts in camfan_viewers_stale (the deploy/prometheus alert's threshold)",
    default: 2000,
    parse: integer(100, 600000),
  },
  maxClockSkewMs: {
    env: 'MAX_CLOCK_SKEW_MS',
    doc: "a frame stamped more than this ahead of the gateway's clock is refused and counted (keep the hosts' clocks in sync)",
    default: 5000,
    parse: integer(0, 3_600_000),
  },
  lateFrameMs: {
    env: 'LATE_FRAME_MS',
    doc: "drop a frame that arrives this much later than its camera's quickest recent frames (a Redis replica replaying its backlog after a stall): viewers get the next live one instead (0: off)",
    default: 500,
    parse: integer(0, 60000),
  },
  authToken: {
    env: 'AUTH_TOKEN',
    doc: 'require this token (8 to 256 visible characters; Authorization: Bearer …, ?token= or the page cookie) for everything but /healthz, /readyz, the page files (/page/*) and /favicon.ico',
    default: '',
    parse: secret('a token of 8 to 256 visible characters'),
    redact: redactToken,
  },
  authBasic: { env: 'AUTH_BASIC', doc: 'require HTTP Basic credentials user:password', default: '', parse: basicCredentials, redact: redactToken },
  cameraTokens: {
    env: 'CAMERA_TOKENS',
    doc: 'camera=token,… : tokens (8 to 256 visible characters) that open one camera each',
    default: new Map<string, string>() as ReadonlyMap<string, string>,
    parse: cameraTokenList,
    redact: redactToken,
  },
  operatorToken: {
    env: 'OPERATOR_TOKEN',
    doc: 'token (8 to 256 visible characters, Authorization: Bearer …) for /metrics and /api/stats from anywhere; unset: they answer loopback and private addresses only',
    default: '',
    parse: secret('a token of 8 to 256 visible characters'),
    redact: redactToken,
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    doc: 'origins allowed to read responses cross-origin and to open /ws (comma-separated, or *); CORS is off when empty',
    default: [] as string[],
    parse: originList,
  },
  allowedHosts: {
    env: 'ALLOWED_HOSTS',
    doc: 'Host names the gateway answers to (comma-separated, .example.com for subdomains; 421 otherwise; /healthz and /readyz exempt); empty: any (DNS rebinding can reach a LAN gateway)',
    default: [] as string[],
    parse: hostList,
  },
  trustedProxies: {
    env: 'TRUSTED_PROXIES',
    doc: 'proxy addresses or CIDRs (127.0.0.1,10.0.0.0/8) whose X-Forwarded-For / X-Real-IP name the client, for limits, logs and stats',
    default: [] as AddressRange[],
    parse: addressRangeList,
  },
  maxViewers: {
    env: 'MAX_VIEWERS',
    doc: "viewers (streams and WebSockets) this process serves at most, 503 beyond (0: no limit); auto: as many as it can serve at the cameras' rate (see AUTO_MAX_LOAD)",
    default: 0 as number | 'auto',
    parse: viewerLimit,
  },
  autoMaxLoad: {
    env: 'AUTO_MAX_LOAD',
    doc: 'with MAX_VIEWERS=auto: delivery load (0.3–1: the share of time spent delivering frames, not answering requests) past which new viewers get 503 and /readyz answers 503 "saturated"',
    default: 0.85,
    parse: number(0.3, 1),
  },
  autoMaxBackedUp: {
    env: 'AUTO_MAX_BACKED_UP',
    doc: `share of viewers' connections (0.3–1) backing up at once (a frame waiting because the socket had not taken the one before) past which this host's link counts as full (if at least ${MIN_BACKED_UP} do): with MAX_VIEWERS=auto new viewers get 503 and /readyz answers 503 "saturated" with saturatedBy "link"`,
    default: 0.5,
    parse: number(0.3, 1),
  },
  simulatedCostUs: {
    env: 'SIMULATE_DELIVERY_COST_US',
    doc: 'testing aid: busy time added per viewer a frame is handed to, to make a gateway slower than its cameras (0: off)',
    default: 0,
    parse: integer(0, 100_000),
  },
  maxViewersPerIp: {
    env: 'MAX_VIEWERS_PER_IP',
    doc: 'viewers one client address may have at once on this process; 429 beyond (0: no limit)',
    default: 0,
    parse: integer(0, 100_000),
  },
  requestRatePerIp: {
    env: 'REQUEST_RATE_PER_IP',
    doc: 'requests a second (HTTP requests and /ws handshakes) one client address may keep up on this process (an IPv6 address counts by its /64; behind a proxy set TRUSTED_PROXIES, or its clients share its address); past its burst: 429 request_rate and the connection closed (0: no limit)',
    default: 200,
    parse: integer(0, 1_000_000),
  },
  requestBurstPerIp: {
    env: 'REQUEST_BURST_PER_IP',
    doc: 'requests one client address may make at once before REQUEST_RATE_PER_IP paces it (a page with a wall of streams makes one per camera)',
    default: 1000,
    parse: integer(1, 1_000_000),
  },
  redisSubscribeUrl: {
    env: 'REDIS_SUBSCRIBE_URL',
    doc: 'where frames and latest-frame keys are read: a replica of REDIS_URL, or several (comma-separated; the next, then REDIS_URL, when one is down); writes still go to REDIS_URL. Empty: REDIS_URL. Not with REDIS_CLUSTER_NODES',
    default: [] as string[],
    parse: redisUrlList,
    redact: redactUrlListText,
  },
  ...commonSettings,
};

function viewerLimit(raw: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  try {
    return integer(0, 1_000_000)(raw);
  } catch {
    throw new Error('expected auto or a whole number from 0 to 1000000');
  }
}

export type GatewayConfig = Settings<typeof gatewaySettings>;

export function loadGatewayConfig(env = process.env, argv = process.argv.slice(2)): GatewayConfig {
  return loadSettings(gatewaySettings, env, argv);
}

/** For main.ts: --help prints the settings; a bad one exits 2 with a message naming it. */
export const loadGatewayConfigOrExit = (): GatewayConfig =>
  loadOrExit('gateway', 'camfan gateway: Redis frames -> MJPEG over HTTP (uWebSockets.js)', gatewaySettings);
