/**
 * The grid's shape. "auto" tries every column count and keeps the one that shows the most picture area
 * (each tile's picture fitted into its cell with the camera's aspect ratio), so 8 mixed cameras fill a
 * 1920×1080 screen and a single camera gets all of it. "1" to "4" are fixed n×n screens: the grid then
 * scrolls past n² cameras (and what is off-screen is not received: demand.ts).
 */
export type LayoutChoice = 'auto' | '1' | '2' | '3' | '4';

export const LAYOUTS: readonly LayoutChoice[] = ['auto', '1', '2', '3', '4'];

export interface GridShape {
  columns: number;
  rowHeight: number;
}

/** Below these a tile's picture is too small to read: auto scrolls instead. */
const MIN_CELL_WIDTH = 150;
const MIN_CELL_HEIGHT = 90;

/** Picture area of tiles with these aspect ratios in a columns-wide grid of width×height. */
function shownArea(aspects: readonly number[], columns: number, width: number, height: number, gap: number): { area: number; rowHeight: number } {
  const rows = Math.ceil(aspects.length / columns);
  const cellW = (width - gap * (columns - 1)) / columns;
  const rowHeight = Math.max(MIN_CELL_HEIGHT, (height - gap * (rows - 1)) / rows);
  let area = 0;
  for (const a of aspects) {
    const w = Math.min(cellW, rowHeight * a);
    area += w * (w / a);
  }
  // Rows below the fold do not count: the layout is judged by what one screen shows.
  const onScreen = Math.min(1, height / (rows * rowHeight + gap * (rows - 1)));
  return { area: area * onScreen, rowHeight };
}

export function chooseShape(choice: LayoutChoice, aspects: readonly number[], width: number, height: number, gap: number): GridShape {
  if (choice !== 'auto') {
    const n = Number(choice);
    return { columns: n, rowHeight: Math.max(MIN_CELL_HEIGHT, (height - gap * (n - 1)) / n) };
  }
  let best: GridShape = { columns: 1, rowHeight: height };
  let bestArea = -1;
  const maxColumns = Math.max(1, Math.min(aspects.length, Math.floor((width + gap) / (MIN_CELL_WIDTH + gap))));
  for (let columns = 1; columns <= maxColumns; columns++) {
    const { area, rowHeight } = shownArea(aspects, columns, width, height, gap);
    if (area > bestArea) {
      bestArea = area;
      best = { columns, rowHeight };
    }
  }
  return best;
}

/** The picture's size inside a tile of w×h (object-fit: contain). */
export function fitted(aspect: number, w: number, h: number): { width: number; height: number } {
  const width = Math.min(w, h * aspect);
  return { width, height: width / aspect };
}
