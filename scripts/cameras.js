/**
 * Which cameras pm2 runs, one capture app each (read by ecosystem.config.js):
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

function validate(setting, list) {
  if (!Array.isArray(list) || list.length === 0) fail(setting, 'no cameras');
  const seen = new Set();
  return list.map((cam, i) => {
    if (typeof cam !== 'object' || cam === null) fail(setting, `entry ${i + 1} is not an object`);
    const { id, source } = cam;
    if (typeof id !== 'string' || !ID_RE.test(id)) fail(setting, `entry ${i + 1}: id ${JSON.stringify(id)} must be ${SHARED.cameraId.rule}`);
    if (seen.has(id)) fail(setting, `camera id ${id} appears twice`);
    seen.add(id);
    if (typeof source !== 'string' || source.trim() === '') fail(setting, `camera ${id}: source must be a non-empty string`);
    for (const [key, [min, max]] of Object.entries(LIMITS)) {
      const v = cam[key];
      if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) fail(setting, `camera ${id}: ${key} must be a whole number from ${min} to ${max}`);
    }
    const unknown = Object.keys(cam).filter((k) => k !== 'id' && k !== 'source' && !(k in LIMITS));
    if (unknown.length) fail(setting, `camera ${id}: unknown field ${unknown.join(', ')}`);
    return { ...cam };
  });
}

function parseList(setting, raw) {
  const text = raw.trim();
  if (text.startsWith('[')) {
    try {
      return validate(setting, JSON.parse(text));
    } catch (err) {
      if (err instanceof SyntaxError) fail(setting, `invalid JSON (${err.message})`);
      throw err;
    }
  }
  // GStreamer caps contain commas: with a ';' anywhere, only ';' separates cameras.
  const entries = text
    .split(text.includes(';') ? ';' : ',')
    .map((e) => e.trim())
    .filter(Boolean);
  return validate(
    setting,
    entries.map((e) => {
      const eq = e.indexOf('=');
      if (eq <= 0) fail(setting, `entry ${JSON.stringify(e)} is not id=source`);
      return { id: e.slice(0, eq).trim(), source: e.slice(eq + 1).trim() };
    }),
  );
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

module.exports = { camerasFromEnv };
