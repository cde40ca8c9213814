/**
 * GET /stream/:camera and /video_feed: an endless multipart/x-mixed-replace response, one MjpegViewer
 * (mjpeg-viewer.ts) that the hub feeds. Admission: the query is checked, then the gateway's capacity
 * (MAX_VIEWERS=auto), then MAX_VIEWERS and MAX_VIEWERS_PER_IP; the viewer's slot is released when it goes.
 */
import { LIMITS } from '../../lib/ids.js';
import { MjpegViewer } from '../delivery/mjpeg-viewer.js';
import { chooseFraming } from '../delivery/packet.js';
import { snapRendition } from '../adaptation/renditions.js';
import type { HttpRequest, HttpResponse } from './uws.js';
import type { Ctx, HttpOptions } from './context.js';
import { parseWhole } from './query.js';
import { REFUSALS } from './refusals.js';
import { refuse, STREAM_HEADERS } from './respond.js';

export function stream(res: HttpResponse, req: HttpRequest, ctx: Ctx, o: HttpOptions): void {
  const { hub, access, capacity, log } = o;
  const camera = ctx.camera;
  const framing = chooseFraming(req.getQuery('framing'), req.getHeader('user-agent'));
  const fps = parseWhole(req.getQuery('fps'), LIMITS.fps.min, LIMITS.fps.max);
  const width = parseWhole(req.getQuery('width'), LIMITS.renditionWidth.min, LIMITS.renditionWidth.max);
  if (!framing) return refuse(res, REFUSALS.badFraming, ctx.cors);
  if (fps === null) return refuse(res, REFUSALS.badFps, ctx.cors);
  if (width === null) return refuse(res, REFUSALS.badWidth, ctx.cors);
  if (!capacity.admit(Math.min(fps ?? Infinity, hub.frameRate(camera)))) return refuse(res, REFUSALS.saturated, ctx.cors);
  const remote = ctx.client.address; // TRUSTED_PROXIES: the forwarded client, for limits and stats
  const admission = access.admit(remote);
  if (admission === 'max_viewers') return refuse(res, REFUSALS.maxViewers, ctx.cors);
  if (admission === 'max_viewers_per_ip') return refuse(res, REFUSALS.maxViewersPerIp, ctx.cors);
  const viewer = new MjpegViewer(res, camera, framing, { remote, observer: o.observer, maxFps: fps ?? null });
  let released = false;
  const release = (): void => {
    if (!released) access.release(remote);
    released = true;
  };
  ctx.onAbort(() => {
    viewer.aborted();
    hub.unwatch(viewer);
    release();
  });
  void (async () => {
    if (!(await hub.isKnown(camera))) {
      if (!viewer.closed) refuse(res, REFUSALS.noSuchCamera(camera), ctx.cors);
      viewer.aborted();
      release();
      return;
    }
    if (viewer.closed) return;
    if (width !== undefined) viewer.rendition = snapRendition(width, hub.cameraWidth(camera), o.renditionWidths);
    viewer.begin([...STREAM_HEADERS, ...ctx.cors]);
    await hub.watch(viewer);
  })().catch((err: unknown) => {
    log.error({ err, camera }, 'stream failed');
    viewer.close();
  });
}
