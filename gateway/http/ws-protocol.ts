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
 * and the server's text message, for a refused command or a subscription the gateway ended:
 *   {"error":"no such camera","code":"no_such_camera","camera":"cam0"}
 * "error" is for people and may be reworded; "code" is stable (refusals.ts, README "Refusal codes").
 */
import { CAMERA_ID_RE, CAMERA_ID_RULE, LIMITS } from '../../lib/ids.js';
import { REFUSALS, type Refusal } from './refusals.js';

export interface Subscribe {
  subscribe: string;
  fps?: number;
  width?: number;
  ack: boolean;
  adapt: boolean;
}

export type Command = Subscribe | { unsubscribe: string } | { ack: string };

const wholeIn = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** The server's error message: the refusal's text and code, and the camera it is about. */
export interface ErrorMessage {
  error: string;
  code: string;
  camera?: string;
}

export function errorMessage(refusal: Refusal, camera?: string): string {
  const m: ErrorMessage = camera === undefined ? { error: refusal.text, code: refusal.code } : { error: refusal.text, code: refusal.code, camera };
  return JSON.stringify(m);
}

/**
 * Sent to every open socket when the gateway begins to shut down (a deploy, a scale-in): the page opens
 * a new socket at once — the balancer sends it to another gateway, this one no longer accepts — and closes
 * this one when the new one is open, so its cameras never stop. The gateway keeps delivering meanwhile.
 */
export const MOVE_MESSAGE = JSON.stringify({ move: 'this gateway is shutting down; connect again' });

/** The command, or the refusal that says why not. */
export function parseCommand(message: ArrayBuffer): Command | Refusal {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(message).toString('utf8'));
  } catch {
    return REFUSALS.notJson;
  }
  if (typeof value !== 'object' || value === null) return REFUSALS.notObject;
  const v = value as Record<string, unknown>;
  const camera = v.subscribe ?? v.unsubscribe ?? v.ack;
  if (typeof camera !== 'string' || !CAMERA_ID_RE.test(camera)) return REFUSALS.badCamera(CAMERA_ID_RULE);
  if (v.subscribe === undefined) return v.unsubscribe !== undefined ? { unsubscribe: camera } : { ack: camera };
  if (v.fps !== undefined && !wholeIn(v.fps, LIMITS.fps.min, LIMITS.fps.max)) return REFUSALS.badFps;
  if (v.width !== undefined && !wholeIn(v.width, LIMITS.renditionWidth.min, LIMITS.renditionWidth.max)) return REFUSALS.badWidth;
  if ((v.ack !== undefined && typeof v.ack !== 'boolean') || (v.adapt !== undefined && typeof v.adapt !== 'boolean')) return REFUSALS.badFlag;
  if (v.adapt === true && v.ack !== true) return REFUSALS.adaptNeedsAck;
  return {
    subscribe: camera,
    ack: v.ack === true,
    adapt: v.adapt === true,
    ...(v.fps !== undefined ? { fps: v.fps as number } : {}),
    ...(v.width !== undefined ? { width: v.width as number } : {}),
  };
}
