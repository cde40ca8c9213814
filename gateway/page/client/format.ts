/** Small text helpers shared by the client's modules. */

/** "0.4 s", "12 s", "3 min", "2 h": how long ago, as people read it on a tile. */
export function describeAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(s < 1 ? 1 : 0)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
