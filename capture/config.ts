/** The capture process's settings: env vars or --flags, each with its default and one line of doc. */
import { DEFAULT_JPEG_QUALITY, sizeSetting } from './output.js';
import type { PassthroughMode, SizeSetting } from './source/kinds/source.js';
import { MAX_REDIRECTS, REDIRECT_POLICIES, type RedirectPolicy } from './source/kinds/http-open.js';
import { LIMITS } from '../lib/ids.js';
import { cameraId, commonSettings, loadOrExit, integer, loadSettings, oneOf, readableFile, text, type Settings } from '../lib/settings.js';

export const captureSettings = {
  cameraId: { env: 'CAMERA_ID', doc: 'camera id used in URLs and Redis keys', default: 'cam0', parse: cameraId },
  camerasFile: {
    env: 'CAMERAS_FILE',
    doc: 'a file listing the cameras this process captures (as for npm start: a JSON array of {id, source, width, height, fps, quality}, or id=source pairs); it is watched: an entry added, changed or removed starts, restarts or stops only that camera; CAMERA_ID and CAPTURE_SOURCE are then unused',
    default: null as string | null,
    parse: readableFile as (raw: string) => string | null,
  },
  cameraLeaseMs: {
    env: 'CAMERA_LEASE_MS',
    doc: "with CAMERAS_FILE: each camera is captured by the one process holding its lease in Redis, renewed every quarter of this; a dead process's cameras are taken over by another once it runs out",
    default: 2000,
    parse: integer(400, 60000),
  },
  source: {
    env: 'CAPTURE_SOURCE',
    doc: 'auto | test | device index | /dev/videoN | file path (looped) | rtsp://, http(s)://, rtmp:// URL | gst:<GStreamer pipeline ending in appsink>',
    default: 'auto',
    parse: text,
  },
  width: {
    env: 'CAPTURE_WIDTH',
    doc: "frame width in pixels (frames of another size are resized), or source: the source's own width",
    default: 640 as SizeSetting,
    parse: sizeSetting(LIMITS.width.min, LIMITS.width.max),
  },
  height: {
    env: 'CAPTURE_HEIGHT',
    doc: "frame height in pixels, or source: the source's own height",
    default: 480 as SizeSetting,
    parse: sizeSetting(LIMITS.height.min, LIMITS.height.max),
  },
  passthrough: {
    env: 'CAPTURE_PASSTHROUGH',
    doc: "auto: publish the camera's own JPEGs untouched when it sends MJPEG (HTTP stream or V4L2 camera) of the size asked for and JPEG_QUALITY is unset; on: always when it sends JPEG; off: always decode and encode",
    default: 'auto' as PassthroughMode,
    parse: oneOf<PassthroughMode>('auto', 'on', 'off'),
  },
  redirects: {
    env: 'CAPTURE_REDIRECTS',
    doc: `an http(s):// camera that redirects (camfan's reader and OpenCV/FFmpeg alike): refuse: follow none; same-origin: only to the camera's own scheme, host and port; follow: to any http(s) URL (the camera's userinfo is sent to its own origin only). Each redirect followed is logged and each refused is in the error, its target redacted; at most ${MAX_REDIRECTS} in a row`,
    default: 'same-origin' as RedirectPolicy,
    parse: oneOf<RedirectPolicy>(...REDIRECT_POLICIES),
  },
  fps: { env: 'CAPTURE_FPS', doc: 'target frame rate, paced without drift', default: 30, parse: integer(LIMITS.fps.min, LIMITS.fps.max) },
  jpegQuality: {
    env: 'JPEG_QUALITY',
    doc: `JPEG quality when camfan encodes (unset: ${DEFAULT_JPEG_QUALITY}); setting it makes CAPTURE_PASSTHROUGH=auto encode`,
    default: null as number | null,
    parse: integer(LIMITS.quality.min, LIMITS.quality.max) as (raw: string) => number | null,
  },
  idleFps: {
    env: 'IDLE_FPS',
    doc: 'frame rate while no gateway anywhere watches this camera (0: never idle)',
    default: 1,
    parse: integer(0, LIMITS.fps.max),
  },
  dropSameFrames: { env: 'DROP_SAME_FRAMES', doc: 'skip frames identical to the last one published (static scenes)', default: 'on', parse: oneOf('on', 'off') },
  keepAliveMs: { env: 'KEEPALIVE_MS', doc: 'with DROP_SAME_FRAMES, still publish an unchanged frame this often', default: 1000, parse: integer(100, 60000) },
  latestTtlMs: {
    env: 'LATEST_TTL_MS',
    doc: 'how long the latest frame stays in Redis: an older frame is never shown as live',
    default: 3000,
    parse: integer(200, 60000),
  },
  latestEveryMs: {
    env: 'LATEST_EVERY_MS',
    doc: "write the latest frame to Redis at most this often (0: every frame); each write is another copy of a frame on every replica's link, so the default keeps that to about one copy per frame, while a gateway's first viewer still gets a picture at once (at most this old, the live ones right behind it)",
    default: 1000,
    parse: integer(0, 2000),
  },
  stallTimeoutMs: {
    env: 'STALL_TIMEOUT_MS',
    doc: 'a source that delivers no frame for this long is reopened',
    default: 5000,
    parse: integer(500, 600000),
  },
  openTimeoutMs: {
    env: 'OPEN_TIMEOUT_MS',
    doc: 'an open that has not returned after this long (a hung stream or pipeline) is abandoned: the source process is replaced',
    default: 20000,
    parse: integer(1000, 600000),
  },
  retryMaxMs: { env: 'RETRY_MAX_MS', doc: 'longest wait between attempts to reopen a failed source', default: 10000, parse: integer(100, 600000) },
  ...commonSettings,
};

export type CaptureConfig = Settings<typeof captureSettings>;

export function loadCaptureConfig(env = process.env, argv = process.argv.slice(2)): CaptureConfig {
  return loadSettings(captureSettings, env, argv);
}

/** For main.ts: --help prints the settings; a bad one exits 2 with a message naming it. */
export const loadCaptureConfigOrExit = (): CaptureConfig =>
  loadOrExit('capture', 'camfan capture: one camera, or the cameras of CAMERAS_FILE -> JPEG frames -> Redis', captureSettings);
