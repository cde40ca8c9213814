/**
 * The camera list (GET /api/cameras), polled with a short timeout so a slow answer never stacks up behind
 * the next poll, and the gateway's clock offset from its Date header (captures and gateways stamp frames
 * with their clocks; the page compares with its own).
 */
import type { ListedCamera } from './camera-info.mjs';

/** What the page knows of a camera: an entry of /api/cameras (lib/wire/camera-info.mts, shared with the gateway). */
export type CameraInfo = ListedCamera;

export interface CameraList {
  cameras: CameraInfo[];
  /** Gateway clock minus the page's, in ms (0 when the gateway sends no Date header). */
  skewMs: number;
}

export async function fetchCameras(timeoutMs = 4000): Promise<CameraList> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const r = await fetch('/api/cameras', { cache: 'no-store', signal: abort.signal });
    if (!r.ok) throw new Error(`camera list: HTTP ${r.status}`);
    const body = (await r.json()) as { cameras: CameraInfo[] };
    const date = Date.parse(r.headers.get('date') ?? '');
    // The Date header has whole seconds: half a second is the best guess at the fraction.
    const skewMs = Number.isFinite(date) ? date + 500 - Date.now() : 0;
    return { cameras: body.cameras, skewMs: Math.abs(skewMs) < 1500 ? 0 : skewMs };
  } finally {
    clearTimeout(timer);
  }
}
