/**
 * The entries of a CAMERAS_FILE as camera configurations: each entry checked on its own by the parser pm2
 * uses at npm start (scripts/cameras.js, so both accept and refuse the same lists), then its source parsed
 * here. A bad entry is refused with the entry and the field named; the others stand.
 */
import path from 'node:path';
import { CameraConfigError, cameraSpec, type CameraConfig } from '../camera.js';
import type { SourceSpec } from '../source/kinds/source.js';

export interface Refusal {
  /** The camera id, when the entry has a valid one. */
  id?: string;
  /** "camera lobby" or "entry 3". */
  entry: string;
  field: string;
  message: string;
}

interface RawCamera {
  id: string;
  source: string;
  width?: number;
  height?: number;
  fps?: number;
  quality?: number;
}

interface CamerasParser {
  entriesOf(setting: string, raw: string): unknown[];
  checkEntries(list: unknown[]): { cameras: RawCamera[]; refused: Refusal[] };
}

// A CommonJS script at the root (pm2 reads it before anything is built): three levels up from dist/capture/cameras/.
const parser = require(path.resolve(__dirname, '..', '..', '..', 'scripts', 'cameras.js')) as CamerasParser;

export interface CameraEntry {
  id: string;
  /** The entry as written, keys sorted: a camera whose key changes is restarted. */
  key: string;
  config: CameraConfig;
  spec: SourceSpec;
}

export interface CameraList {
  cameras: CameraEntry[];
  refused: Refusal[];
}

/**
 * The list in `text`; throws an Error naming the setting when the text as a whole is not a list (bad JSON,
 * an id=source pair without "=", an empty file: most likely caught halfway through a write).
 */
export function parseCameraList(setting: string, text: string, base: CameraConfig): CameraList {
  if (text.trim() === '') throw new Error(`${setting}: the file is empty (write [] to run no camera)`);
  const { cameras: raw, refused } = parser.checkEntries(parser.entriesOf(setting, text));
  const cameras: CameraEntry[] = [];
  for (const cam of raw) {
    const config: CameraConfig = {
      ...base,
      cameraId: cam.id,
      source: cam.source,
      width: cam.width ?? base.width,
      height: cam.height ?? base.height,
      fps: cam.fps ?? base.fps,
      jpegQuality: cam.quality ?? base.jpegQuality,
    };
    try {
      const key = JSON.stringify(Object.fromEntries(Object.entries(cam).sort(([a], [b]) => (a < b ? -1 : 1))));
      cameras.push({ id: cam.id, key, config, spec: cameraSpec(config) });
    } catch (err) {
      if (!(err instanceof CameraConfigError)) throw err;
      // The source itself is not repeated: it may hold credentials.
      refused.push({ id: cam.id, entry: `camera ${cam.id}`, field: err.field, message: `camera ${cam.id}: source is invalid: ${err.message}` });
    }
  }
  return { cameras, refused };
}
