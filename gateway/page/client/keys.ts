/**
 * Opening a camera and moving between cameras, by mouse, keyboard and URL:
 *   click or Enter: open a tile (it fills the viewport) / close it; Escape: close;
 *   double-click, the ⛶ button or f: fullscreen (the Fullscreen API; where it is refused the opened tile
 *   still fills the viewport); arrow keys: the next or previous camera (opened, or focus in the grid);
 *   the opened camera is in the URL as #cam=<id>, so a link or a reload opens it again.
 */
import type { Tile } from './tile.js';

export interface Wall {
  tiles(): Tile[];
  readonly openCamera: string | null;
  /** Opens a camera (null: closes), updates the URL and what the page receives. */
  setOpen(camera: string | null): void;
}

export function cameraFromHash(): string | null {
  const m = /^#cam=(.+)$/.exec(location.hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

export function hashFor(camera: string | null): string {
  return camera === null ? '' : `#cam=${encodeURIComponent(camera)}`;
}

async function toggleFullscreen(wall: Wall, tile: Tile): Promise<void> {
  if (document.fullscreenElement) {
    await document.exitFullscreen().catch(() => undefined);
    return;
  }
  wall.setOpen(tile.camera);
  // Refused (no user gesture, an iframe without allowfullscreen, an old browser): the opened tile already fills the viewport.
  await tile.fig.requestFullscreen?.().catch(() => undefined);
}

function step(wall: Wall, from: string | null, by: number): Tile | null {
  const tiles = wall.tiles();
  if (tiles.length === 0) return null;
  const at = tiles.findIndex((t) => t.camera === from);
  return tiles[(at + by + tiles.length) % tiles.length] ?? null;
}

/** Wires one tile's own controls. */
export function wireTile(wall: Wall, tile: Tile): void {
  tile.fig.addEventListener('click', (e) => {
    if ((e.target as Element).closest('a, button')) return;
    wall.setOpen(wall.openCamera === tile.camera ? null : tile.camera);
  });
  tile.fig.addEventListener('dblclick', (e) => {
    if (!(e.target as Element).closest('a, button')) void toggleFullscreen(wall, tile);
  });
  tile.fullscreenButton.addEventListener('click', () => void toggleFullscreen(wall, tile));
}

export function installKeys(wall: Wall): void {
  document.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as Element;
    if (target.closest('select, input, textarea')) return;
    const focused = target.closest('figure') as HTMLElement | null;
    const focusedTile = wall.tiles().find((t) => t.fig === focused) ?? null;
    const open = wall.openCamera;
    const move = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
    if (e.key === 'Escape' && open !== null) {
      wall.setOpen(null);
    } else if ((e.key === 'Enter' || e.key === ' ') && focusedTile && !target.closest('a, button')) {
      wall.setOpen(open === focusedTile.camera ? null : focusedTile.camera);
    } else if (e.key === 'f' && (focusedTile || open !== null)) {
      const tile = focusedTile ?? wall.tiles().find((t) => t.camera === open);
      if (tile) void toggleFullscreen(wall, tile);
    } else if (move !== 0 && (open !== null || focusedTile)) {
      const next = step(wall, open ?? focusedTile!.camera, move);
      if (!next) return;
      if (open !== null) wall.setOpen(next.camera);
      next.fig.focus();
    } else {
      return;
    }
    e.preventDefault();
  });
  // Leaving fullscreen (Escape there is the browser's own) closes the tile too: one Escape, back to the grid.
  document.addEventListener('fullscreenchange', () => {
    if (!document.fullscreenElement && wall.openCamera !== null) wall.setOpen(null);
  });
  window.addEventListener('hashchange', () => wall.setOpen(cameraFromHash()));
}
