/**
 * The test pattern writes the low 16 bits of each frame's sequence number as black/white blocks along its
 * top edge (LSB first). This is their geometry, shared with the browser test that reads them back to learn
 * which frame a browser is displaying.
 */
export const SEQ_BITS = 16;

export function seqBlockSize(width: number): number {
  return Math.max(8, Math.floor(width / (SEQ_BITS * 2)));
}
