/**
 * The camera list over Redis. Each camera's entry is its own key (channels.camera, in the camera's hash
 * slot), SET by its capture with an expiry, so a capture user can be granted its cameras' entries and no
 * others (deploy/redis-acl.conf) and a dead capture's entry goes away by itself. Gateways find the entries
 * with SCAN where they read (the server, its replica with REDIS_SUBSCRIBE_URL, or each master of a Cluster)
 * and read them with one pipeline of GETs per server.
 * Whatever sits under those keys is checked (camera-info.ts): not a string (WRONGTYPE), not JSON, or
 * another camera's entry is skipped, counted and logged once; a key that expired between SCAN and GET is
 * simply gone. An error reply costs the listing, never the connection (redis-connection.ts).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/log.js';
import type { BusStats, CameraInfo } from './bus.js';
import { parseCameraList } from './camera-info.js';
import { cameraOfKey, channels } from './channels.js';
import type { Connection } from './redis-connection.js';
import { primaries } from './redis-dialect.js';

/** Keys looked at per SCAN call: a camfan Redis holds a few keys per camera, so one call usually does. */
const SCAN_COUNT = 1000;
/** Bad entries remembered so each is logged once; forgotten all at once past this many. */
const MAX_REPORTED = 1000;

type OnInvalid = (camera: string, reason: string) => void;

/** Every camera-entry key on one server (SCAN may return a key twice: counted once). */
async function entryKeys(node: Redis): Promise<string[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', channels.cameraPattern, 'COUNT', SCAN_COUNT);
    for (const key of batch) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  return [...keys];
}

/** (camera id, JSON) of every entry on one server; WRONGTYPE values reported, other errors fail the listing. */
async function entriesOn(node: Redis, onInvalid: OnInvalid): Promise<Array<[string, string]>> {
  const keys = await entryKeys(node);
  if (keys.length === 0) return [];
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.get(key);
  const replies = (await pipeline.exec()) ?? [];
  const out: Array<[string, string]> = [];
  replies.forEach(([err, value], i) => {
    const camera = cameraOfKey(keys[i]!) ?? keys[i]!;
    if (err && /^WRONGTYPE/.test(err.message)) onInvalid(camera, 'not a string');
    else if (err) throw err;
    else if (typeof value === 'string') out.push([camera, value]);
  });
  return out;
}

export class RedisCameraList {
  /** Invalid entries already logged (camera and reason). */
  private readonly reported = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly stats: BusStats,
  ) {}

  async announce(conn: Connection, info: CameraInfo, ttlMs: number): Promise<void> {
    await conn.set(channels.camera(info.camera), JSON.stringify(info), 'PX', ttlMs);
  }

  async retire(conn: Connection, camera: string): Promise<void> {
    await conn.del(channels.camera(camera));
  }

  async list(conn: Connection): Promise<CameraInfo[]> {
    const onInvalid: OnInvalid = (camera, reason) => this.invalid(camera, reason);
    const perServer = await Promise.all(primaries(conn).map((node) => entriesOn(node, onInvalid)));
    return parseCameraList(perServer.flat(), onInvalid);
  }

  private invalid(camera: string, reason: string): void {
    this.stats.invalidCameraEntries++;
    // Listed every 250 ms or so: say once per bad entry and reason, not at every listing.
    const key = `${camera}\0${reason}`;
    if (this.reported.has(key)) return;
    if (this.reported.size > MAX_REPORTED) this.reported.clear();
    this.reported.add(key);
    this.log.warn({ key: channels.camera(camera.slice(0, 80)), reason, skipped: this.stats.invalidCameraEntries }, 'skipped an invalid camera-list entry');
  }
}
