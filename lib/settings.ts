/**
 * A tiny typed settings table: every setting has an env var, a --flag, a default and a one-line doc.
 * Each process's config.ts declares its table and calls loadSettings(); the result is frozen, and
 * every error names the setting and what it accepts (centrifugo/fastify style).
 */
import { accessSync, constants } from 'node:fs';
import { parseArgs } from 'node:util';
import { CAMERA_ID_RE, CAMERA_ID_RULE, LIMITS } from './ids.js';
import { redactUrlText } from './redact.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Setting<T> {
  /** Environment variable, e.g. PORT. The flag is derived: --port. */
  env: string;
  doc: string;
  default: T;
  /** Parses the raw string; throws Error with a message saying what is allowed. */
  parse: (raw: string) => T;
  /** For secrets: how a rejected value is shown in the error (never verbatim; see redactToken, redactUrlText). */
  redact?: (raw: string) => string;
}

type Table = Record<string, Setting<unknown>>;
export type Settings<T extends Table> = { readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : never };

export function flagName(env: string): string {
  return env.toLowerCase().replace(/_/g, '-');
}

export function loadSettings<T extends Table>(table: T, env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): Settings<T> {
  const options: Record<string, { type: 'string' }> = {};
  for (const s of Object.values(table)) options[flagName(s.env)] = { type: 'string' };
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(
      `${(err as Error).message}. Known flags: ${Object.keys(options)
        .map((f) => `--${f}`)
        .join(', ')}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(table)) {
    const fromFlag = flags[flagName(s.env)];
    const raw = typeof fromFlag === 'string' ? fromFlag : env[s.env];
    if (raw === undefined || raw === '') {
      out[key] = s.default;
      continue;
    }
    try {
      out[key] = s.parse(raw);
    } catch (err) {
      const shown = s.redact ? s.redact(raw) : JSON.stringify(raw);
      throw new ConfigError(`${s.env} (--${flagName(s.env)}) = ${shown} is invalid: ${(err as Error).message}`);
    }
  }
  return Object.freeze(out) as Settings<T>;
}

export function helpText(title: string, table: Table): string {
  const rows = Object.values(table).map((s) => `  ${s.env.padEnd(22)} --${flagName(s.env).padEnd(22)} ${s.doc} (default: ${JSON.stringify(s.default)})`);
  return `${title}\n\nSettings (environment variable, flag, meaning):\n${rows.join('\n')}\n`;
}

// ---- parsers -----------------------------------------------------------------------------

export function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

export function number(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new Error(`expected a number from ${min} to ${max}`);
    return n;
  };
}

export function oneOf<T extends string>(...allowed: T[]): (raw: string) => T {
  return (raw) => {
    if (!(allowed as string[]).includes(raw)) throw new Error(`expected one of ${allowed.join(', ')}`);
    return raw as T;
  };
}

export function matching(re: RegExp, what: string): (raw: string) => string {
  return (raw) => {
    if (!re.test(raw)) throw new Error(`expected ${what}`);
    return raw;
  };
}

export function redisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected a URL like redis://host:6379 or rediss://user:password@host:6380/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`expected scheme redis:// or rediss://, got ${url.protocol}//`);
  }
  return raw;
}

/** redis://…,redis://… : endpoints in order of preference, each checked as redisUrl. */
export function redisUrlList(raw: string): string[] {
  return raw.split(',').map((u) => redisUrl(u.trim()));
}

/** host:port,host:port — the seed nodes of a Redis Cluster. */
export function hostPorts(raw: string): Array<{ host: string; port: number }> {
  return raw.split(',').map((entry) => {
    const m = /^\s*([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(entry);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`expected host:port[,host:port…], got ${JSON.stringify(entry)}`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
}

/** A secret: visible ASCII, no spaces. */
export function secret(what: string): (raw: string) => string {
  return (raw) => {
    if (!/^[\x21-\x7e]{8,256}$/.test(raw)) throw new Error(`expected ${what}`);
    return raw;
  };
}

export function basicCredentials(raw: string): string {
  const i = raw.indexOf(':');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (i < 1 || i === raw.length - 1 || /[\x00-\x1f]/.test(raw)) throw new Error('expected user:password (both non-empty)');
  return raw;
}

/** camera=token,camera=token */
export function cameraTokenList(raw: string): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const entry of raw.split(',')) {
    const i = entry.indexOf('=');
    const camera = entry.slice(0, i).trim();
    const token = entry.slice(i + 1).trim();
    if (i < 1 || !CAMERA_ID_RE.test(camera) || !/^[\x21-\x7e]{8,256}$/.test(token))
      throw new Error('expected camera=token,… with tokens of 8 to 256 visible characters');
    out.set(camera, token);
  }
  return out;
}

/** Origins like https://example.com, or *. */
export function originList(raw: string): string[] {
  return raw.split(',').map((o) => {
    const v = o.trim();
    if (v !== '*' && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(v))
      throw new Error(`expected origins like https://example.com or *, got ${JSON.stringify(v)}`);
    return v;
  });
}

export function readableFile(raw: string): string {
  try {
    accessSync(raw, constants.R_OK);
  } catch {
    throw new Error('expected the path of a readable file');
  }
  return raw;
}

export function text(raw: string): string {
  return raw;
}

/** Camera ids appear in URLs, Redis keys and logs: keep them short and plain. */
/** A comma-separated list of picture widths, ascending, without duplicates; `none` for an empty list. */
export function widthList(raw: string): number[] {
  if (raw.trim() === 'none') return [];
  const widths = raw
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean)
    .map((w) => integer(LIMITS.renditionWidth.min, LIMITS.renditionWidth.max)(w));
  if (widths.length > 8) throw new Error('expected at most 8 widths');
  return [...new Set(widths)].sort((a, b) => a - b);
}

export const cameraId = matching(CAMERA_ID_RE, CAMERA_ID_RULE);

/** Settings both processes take, declared once. */
export const commonSettings = {
  renditionWidths: {
    env: 'RENDITION_WIDTHS',
    doc: 'widths of the smaller pictures viewers may ask for (?width=, or "width" on /ws); each is encoded once, by the capture, only while watched (none: no renditions)',
    default: [320, 640, 1280] as number[],
    parse: widthList,
  },
  // One bound for both: a frame the capture publishes over the gateways' bound could never be shown.
  maxFrameBytes: {
    env: 'MAX_FRAME_BYTES',
    doc: 'a JPEG larger than this is dropped and counted: by the capture before Redis (keep it well under Redis client-output-buffer-limit pubsub), by the gateway when one comes from the bus (anyone who can write to Redis could send one)',
    default: 8 * 1024 * 1024,
    parse: integer(1024, 64 * 1024 * 1024),
  },
  // Both: gateways drop a camera not announced for this long, and captures let their entries expire a bit later.
  cameraGoneMs: {
    env: 'CAMERA_GONE_MS',
    doc: "a camera whose capture has not announced itself for this long is dropped from the list and its streams end; a capture's entry in Redis expires 5 s after that",
    default: 60000,
    parse: integer(3000, 86_400_000),
  },
  redisUrl: {
    env: 'REDIS_URL',
    doc: 'Redis (redis:// or rediss://, with user:password if needed)',
    default: 'redis://127.0.0.1:6379',
    parse: redisUrl,
    redact: redactUrlText,
  },
  redisClusterNodes: {
    env: 'REDIS_CLUSTER_NODES',
    doc: 'host:port,… of a Redis Cluster (sharded pub/sub, Redis >= 7); REDIS_URL then only supplies user:password',
    default: [] as Array<{ host: string; port: number }>,
    parse: hostPorts,
  },
  redisTlsCa: {
    env: 'REDIS_TLS_CA',
    doc: 'with rediss://, a PEM file of the CA that signed the Redis certificate, when it is not a public CA',
    default: '',
    parse: readableFile,
  },
  redisStartupTimeoutMs: {
    env: 'REDIS_STARTUP_TIMEOUT_MS',
    doc: 'exit (pm2 restarts us) if Redis is unreachable this long after start; outages after the first connection are retried forever',
    default: 30000,
    parse: integer(1000, 3600000),
  },
  redisCommandTimeoutMs: {
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    doc: 'a Redis command not answered within this long fails (a frozen Redis: /readyz, snapshots and the camera list answer 503 instead of hanging)',
    default: 1500,
    parse: integer(100, 60000),
  },
  shutdownTimeoutMs: {
    env: 'SHUTDOWN_TIMEOUT_MS',
    doc: 'forced exit after this long on SIGTERM (keep below pm2 kill_timeout)',
    default: 4000,
    parse: integer(100, 60000),
  },
  logLevel: { env: 'LOG_LEVEL', doc: 'log level', default: 'info', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
};

/** --help prints the table; a bad setting prints its message and exits 2 (before any logger exists). */
export function loadOrExit<T extends Table>(app: string, title: string, table: T): Settings<T> {
  if (process.argv.includes('--help')) {
    process.stdout.write(helpText(title, table));
    process.exit(0);
  }
  try {
    return loadSettings(table);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`camfan ${app}: ${err.message}\n`);
    process.exit(2);
  }
}
