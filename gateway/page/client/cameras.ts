/**
 * The camera list (GET /api/cameras, fields as bus/bus.ts CameraInfo), polled with a short timeout so a
 * slow answer never stacks up behind the next poll, and the gateway's clock offset from its Date header
 * (captures and gateways stamp frames with their clocks; the page compares with its own).
 */
export interface CameraInfo {
  camera: string;
  width: number;
  height: number;
  fps: number;
  targetFps: number;
  lastFrameAt: number;
  live: boolean;
  mode?: string;
  renditions?: Array<{ width: number; height: number; fps: number; lastFrameBytes: number }>;
}

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
