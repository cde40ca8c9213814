/**
 * What the page asks the gateway for, per tile (the page asks for what it shows):
 *   - nothing for a tile nobody sees: off-screen (IntersectionObserver), in a hidden tab (Page
 *     Visibility), or behind an opened tile;
 *   - the opened (enlarged or fullscreen) tile: the camera's own size at its full rate;
 *   - any other tile: the width its picture has on screen in device pixels (the gateway snaps it to the
 *     nearest rendition, never wider than the camera), and at most SMALL_TILE_FPS when it is small.
 * ?demand=off asks for every camera at full size and rate (the page before this; for measuring), and
 * ?renditions=off for full-size pictures while keeping the rest.
 */
import { fitted } from './layout.js';
import type { Wanted } from './socket.js';
import type { Tile } from './tile.js';

export interface DemandContext {
  /** The opened tile's camera, if any. */
  open: string | null;
  tabHidden: boolean;
  demandOff: boolean;
  renditionsOff: boolean;
  dpr: number;
}

/** A tile narrower than this (CSS px) is small: a lower rate looks the same there. */
const SMALL_TILE_CSS_WIDTH = 200;
const SMALL_TILE_FPS = 10;
/** Ask for a new width only when it differs this much from the one asked for (no churn on small resizes). */
const WIDTH_HYSTERESIS = 0.25;
/** Within this share of the camera's width the camera's own picture is as good. */
const FULL_SIZE_SHARE = 0.8;

export function wantedFor(t: Tile, onScreen: boolean, ctx: DemandContext, previous: Wanted | null): Wanted | null {
  if (t.gone) return null; // asked again when the camera list has it live again
  if (ctx.demandOff) return {};
  if (ctx.tabHidden || !onScreen || (ctx.open !== null && ctx.open !== t.camera)) return null;
  if (ctx.open === t.camera) return {};
  const rect = t.fig.getBoundingClientRect();
  const camAspect = t.info.width > 0 && t.info.height > 0 ? t.info.width / t.info.height : t.aspect;
  const pic = fitted(camAspect, rect.width, rect.height);
  const fps = pic.width < SMALL_TILE_CSS_WIDTH && t.info.fps > SMALL_TILE_FPS ? SMALL_TILE_FPS : undefined;
  const px = Math.round(pic.width * ctx.dpr);
  if (ctx.renditionsOff || t.noRenditions || px <= 0 || px >= t.info.width * FULL_SIZE_SHARE) return { fps };
  const before = previous?.width;
  if (before && Math.abs(px - before) / before < WIDTH_HYSTERESIS) return { width: before, fps };
  return { width: px, fps };
}
