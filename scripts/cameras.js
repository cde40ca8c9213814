/**
 * Which cameras pm2 runs (read by ecosystem.config.js: one capture app per camera of CAMERAS, one capture app for all
 * the cameras of CAMERAS_FILE, which the capture watches and checks entry by entry with checkEntries):
 *   CAMERAS="cam0=/dev/video0,lobby=rtsp://cam.local/stream"        id=source pairs, comma-separated
 *   CAMERAS="a=gst:videotestsrc ! video/x-raw,width=640 ! videoconvert ! appsink;b=test"
 *                                              ; separates cameras instead when a source contains commas
 *   CAMERAS='[{"id":"lobby","source":"rtsp://…","width":1280,"height":720,"fps":15,"quality":70}]'
 *   CAMERAS_FILE=cameras.json                                       the same JSON array in a file
 * Without either: one camera, CAMERA_ID (cam0) on CAPTURE_SOURCE (auto).
 * width/height/fps/quality are optional per camera; unset ones fall back to CAPTURE_WIDTH etc.
 */
'use strict';
const { readFileSync } = require('node:fs');

// The camera-id rule and limits the capture and gateway use (lib/ids.ts reads the same file).
const SHARED = require('../lib/limits.json');
const ID_RE = new RegExp(SHARED.cameraId.pattern);
const LIMITS = Object.fromEntries(['width', 'height', 'fps', 'quality'].map((k) => [k, [SHARED[k].min, SHARED[k].max]]));

function fail(setting, message) {
  throw new Error(
    `${setting}: ${message}. Expected "id=source,id=source" ("id=source;id=source" when a source contains commas) or a JSON array of {"id","source","width","height","fps","quality"}`,
  );
}

/** @typedef {{ ok: false, id?: string, entry: string, field: string, message: string }} Refusal */
/** @typedef {{ ok: true, camera: Record<string, unknown> & { id: string, source: string } }} Accepted */

/**
 * One entry of the list: the camera (a copy) or why it is refused, naming the entry and the field. The
 * capture process checks each entry of a watched CAMERAS_FILE with this and refuses only the bad ones.
 * @param {any} cam
 * @param {number} i position in the list, from 0
 * @returns {Accepted | Refusal}
 */
function checkEntry(cam, i) {
  /** @returns {Refusal} */
  const refuse = (entry, field, message) => ({ ok: false, ...(entry.startsWith('camera ') ? { id: entry.slice(7) } : {}), entry, field, message });
  if (typeof cam !== 'object' || cam === null || Array.isArray(cam)) return refuse(`entry ${i + 1}`, '', `entry ${i + 1} is not an object`);
  const { id, source } = cam;
  if (typeof id !== 'string' || !ID_RE.test(id))
    return refuse(`entry ${i + 1}`, 'id', `entry ${i + 1}: id ${JSON.stringify(id)} must be ${SHARED.cameraId.rule}`);
  if (typeof source !== 'string' || source.trim() === '') return refuse(`camera ${id}`, 'source', `camera ${id}: source must be a non-empty string`);
  for (const [key, [min, max]] of Object.entries(LIMITS)) {
    const v = cam[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max))
      return refuse(`camera ${id}`, key, `camera ${id}: ${key} must be a whole number from ${min} to ${max}`);
  }
  const unknown = Object.keys(cam).filter((k) => k !== 'id' && k !== 'source' && !(k in LIMITS));
  if (unknown.length) return refuse(`camera ${id}`, unknown[0], `camera ${id}: unknown field ${unknown.join(', ')}`);
  return { ok: true, camera: { ...cam, id, source } };
}

/**
 * Every entry checked: the good ones, and the refused ones (an id seen before is refused the second time).
 * @param {unknown[]} list
 */
function checkEntries(list) {
  const seen = new Set();
  const cameras = [];
  const refused = [];
  list.forEach((cam, i) => {
    const r = checkEntry(cam, i);
    if (!r.ok) refused.push(r);
    else if (seen.has(r.camera.id))
      refused.push({ ok: false, id: r.camera.id, entry: `camera ${r.camera.id}`, field: 'id', message: `camera id ${r.camera.id} appears twice` });
    else {
      seen.add(r.camera.id);
      cameras.push(r.camera);
    }
  });
  return { cameras, refused };
}

function validate(setting, list) {
  if (!Array.isArray(list) || list.length === 0) fail(setting, 'no cameras');
  const { cameras, refused } = checkEntries(list);
  if (refused.length) fail(setting, refused[0].message);
  return cameras;
}

/**
 * The raw entries of a list (JSON array, or id=source pairs), not yet checked.
 * @param {string} setting
 * @param {string} raw
 * @returns {unknown[]}
 */
function entriesOf(setting, raw) {
  const text = raw.trim();
  if (text.startsWith('[')) {
    let list;
    try {
      list = JSON.parse(text);
    } catch (err) {
      fail(setting, `invalid JSON (${err.message})`);
    }
    if (!Array.isArray(list)) fail(setting, 'not a JSON array');
    return list;
  }
  // GStreamer caps contain commas: with a ';' anywhere, only ';' separates cameras.
  return text
    .split(text.includes(';') ? ';' : ',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => {
      const eq = e.indexOf('=');
      if (eq <= 0) fail(setting, `entry ${JSON.stringify(e)} is not id=source`);
      return { id: e.slice(0, eq).trim(), source: e.slice(eq + 1).trim() };
    });
}

function parseList(setting, raw) {
  return validate(setting, entriesOf(setting, raw));
}

function camerasFromEnv(env) {
  if (env.CAMERAS_FILE) {
    let text;
    try {
      text = readFileSync(env.CAMERAS_FILE, 'utf8');
    } catch (err) {
      fail('CAMERAS_FILE', `cannot read ${env.CAMERAS_FILE} (${err.code || err.message})`);
    }
    return parseList(`CAMERAS_FILE (${env.CAMERAS_FILE})`, text);
  }
  if (env.CAMERAS) return parseList('CAMERAS', env.CAMERAS);
  return validate('CAMERA_ID', [{ id: env.CAMERA_ID || 'cam0', source: env.CAPTURE_SOURCE || 'auto' }]);
}

module.exports = { camerasFromEnv, entriesOf, checkEntries };
