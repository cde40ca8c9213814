/**
 * One entry of the camera list (a camera's camfan:{id}:camera key), checked before anyone uses it. Anyone
 * who can write those keys can write garbage there: one bad entry (`SET camfan:{evil}:camera 1`) must cost
 * that entry only, not the whole list (it used to throw in the sort and empty /api/cameras for every camera).
 */
import { CAMERA_ID_RE } from '../lib/ids.js';
import type { CameraInfo } from './bus.js';

type FieldCheck = (v: unknown) => boolean;

const isNumber: FieldCheck = (v) => typeof v === 'number' && Number.isFinite(v);
const isCount: FieldCheck = (v) => isNumber(v) && (v as number) >= 0;

const FIELDS: Record<keyof CameraInfo, FieldCheck> = {
  camera: (v) => typeof v === 'string' && CAMERA_ID_RE.test(v),
  source: (v) => typeof v === 'string' && v.length <= 2048,
  width: isCount,
  height: isCount,
  fps: isCount,
  targetFps: isCount,
  lastFrameAt: isCount,
  lastFrameBytes: isCount,
  idle: (v) => typeof v === 'boolean',
  encodeMsP50: (v) => v === null || isCount(v),
  updatedAt: isCount,
  // Optional: absent in entries from captures that predate them (or encode no renditions).
  mode: (v) => v === undefined || v === 'passthrough' || v === 'transcode',
  renditions: (v) => v === undefined || (Array.isArray(v) && v.length <= 16 && v.every(isRendition)),
};

function isRendition(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return isCount(r.width) && isCount(r.height) && isCount(r.fps) && isCount(r.lastFrameBytes);
}

/** The entry as CameraInfo (only the known fields), or a one-line reason it was skipped. */
export function parseCameraEntry(camera: string, json: string): CameraInfo | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, ok] of Object.entries(FIELDS)) {
    if (!ok(v[name])) return `field ${name} missing or of the wrong type`;
    if (v[name] !== undefined) out[name] = v[name];
  }
  if (out.camera !== camera) return 'camera id does not match its key';
  return out as unknown as CameraInfo;
}

/** Valid entries (camera id from the key, JSON) sorted by camera id; skipped ones reported to onInvalid. */
export function parseCameraList(entries: Iterable<[string, string]>, onInvalid: (camera: string, reason: string) => void): CameraInfo[] {
  const out: CameraInfo[] = [];
  for (const [camera, json] of entries) {
    const info = parseCameraEntry(camera, json);
    if (typeof info === 'string') onInvalid(camera, info);
    else out.push(info);
  }
  return out.sort((a, b) => (a.camera < b.camera ? -1 : a.camera > b.camera ? 1 : 0));
}
