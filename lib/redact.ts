/**
 * Secrets never reach a log line or an exit message: how a URL's password, a token, or a list of URLs is
 * shown when it is logged or rejected. Used by the settings (lib/settings.ts) and the Redis connections.
 */
/** A password in a URL must never reach a log line. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}

/**
 * A rejected secret is described, never shown: an exit message goes to pm2's log files on every restart.
 * The length helps with the usual mistake (a token shorter than 8 characters).
 */
export function redactToken(raw: string): string {
  return `<secret, ${raw.length} characters>`;
}

/**
 * redactUrl for text that may not even parse as a URL (REDIS_URL=redis://u:pw@h:99999 is rejected by
 * new URL()): whatever sits between :// and the last @ before the path is userinfo; its password goes.
 */
export function redactUrlText(raw: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/.exec(raw);
  if (!m) return JSON.stringify(raw);
  const userinfo = m[2]!;
  const colon = userinfo.indexOf(':');
  const shown = colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`;
  return JSON.stringify(`${m[1]}${shown}@${raw.slice(m[0].length)}`);
}

/** redactUrlText for each URL of a comma-separated list. */
export const redactUrlListText = (raw: string): string =>
  JSON.stringify(
    raw
      .split(',')
      .map((u) => JSON.parse(redactUrlText(u)) as string)
      .join(','),
  );
