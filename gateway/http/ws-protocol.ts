/**
 * The /ws protocol's client messages, parsed and checked (text frames, JSON):
 *   {"subscribe":"cam0"}                       every frame of cam0, latest frame wins
 *     "fps": N         at most N frames a second (LIMITS.fps, lib/limits.json)
 *     "width": W       a smaller picture: the configured rendition nearest to W (never wider than the camera;
 *                      W within LIMITS.renditionWidth)
 *     "ack": true      the client acknowledges each frame it has drawn; at most 2 are unacknowledged
 *     "adapt": true    (with ack) the gateway picks the picture the link can carry, up to "width"
 *   {"ack":"cam0"}                             a frame of cam0 has been drawn
 *   {"unsubscribe":"cam0"}
 */
import { CAMERA_ID_RE, CAMERA_ID_RULE, LIMITS } from '../../lib/ids.js';

export interface Subscribe {
  subscribe: string;
  fps?: number;
  width?: number;
  ack: boolean;
  adapt: boolean;
}

export type Command = Subscribe | { unsubscribe: string } | { ack: string };

const USAGE = 'messages must be JSON: {"subscribe":"<camera>","fps":N,"width":W,"ack":true,"adapt":true}, {"ack":"<camera>"} or {"unsubscribe":"<camera>"}';

const wholeIn = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** The command, or a one-line reason it is refused. */
export function parseCommand(message: ArrayBuffer): Command | string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(message).toString('utf8'));
  } catch {
    return USAGE;
  }
  if (typeof value !== 'object' || value === null) return 'expected a JSON object';
  const v = value as Record<string, unknown>;
  const camera = v.subscribe ?? v.unsubscribe ?? v.ack;
  if (typeof camera !== 'string' || !CAMERA_ID_RE.test(camera)) return `camera must be ${CAMERA_ID_RULE}`;
  if (v.subscribe === undefined) return v.unsubscribe !== undefined ? { unsubscribe: camera } : { ack: camera };
  if (v.fps !== undefined && !wholeIn(v.fps, LIMITS.fps.min, LIMITS.fps.max)) return `fps must be a whole number from ${LIMITS.fps.min} to ${LIMITS.fps.max}`;
  if (v.width !== undefined && !wholeIn(v.width, LIMITS.renditionWidth.min, LIMITS.renditionWidth.max))
    return `width must be a whole number from ${LIMITS.renditionWidth.min} to ${LIMITS.renditionWidth.max}`;
  if ((v.ack !== undefined && typeof v.ack !== 'boolean') || (v.adapt !== undefined && typeof v.adapt !== 'boolean'))
    return 'ack and adapt must be true or false';
  if (v.adapt === true && v.ack !== true) return 'adapt needs ack: true';
  return {
    subscribe: camera,
    ack: v.ack === true,
    adapt: v.adapt === true,
    ...(v.fps !== undefined ? { fps: v.fps as number } : {}),
    ...(v.width !== undefined ? { width: v.width as number } : {}),
  };
}
