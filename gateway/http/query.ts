/** Query and path values as requests bring them. */

/** A whole-number query value (?fps=, ?width=): undefined when absent, null when invalid. */
export function parseWhole(raw: string | undefined, min: number, max: number): number | undefined | null {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,5}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= min && n <= max ? n : null;
}

/** Route parameters arrive percent-encoded; a bad escape is just an unknown camera. */
export function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
