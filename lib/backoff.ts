/** Retry delays for a camera: 250 ms doubling per failed attempt (0-based), capped at maxMs (RETRY_MAX_MS). */
export function backoffMs(attempt: number, maxMs: number): number {
  return Math.min(maxMs, 250 * 2 ** Math.min(attempt, 10));
}
