/**
 * GET /stream/:camera and /video_feed: an endless multipart/x-mixed-replace response, one MjpegViewer
 * (mjpeg-viewer.ts) that the hub feeds. The query is checked, then admission (access/admit.ts: capacity,
 * MAX_VIEWERS, MAX_VIEWERS_PER_IP); the viewer's place is released when it goes.
 */
import { admit } from '../access/admit.js';
import { MjpegViewer } from '../delivery/mjpeg-viewer.js';
import { chooseFraming } from '../delivery/packet.js';
import { snapRendition } from '../adaptation/renditions.js';
import { LIMITS } from '../../lib/ids.js';
import type { Handler } from './context.js';
import { parseWhole } from './query.js';
import { REFUSALS } from './refusals.js';
import { STREAM_HEADERS } from './respond.js';

export const stream: Handler = (res, req, ctx, o) => {
  const { hub, access, log, refuser } = o;
  const camera = ctx.camera;
  const framing = chooseFraming(req.getQuery('framing'), req.getHeader('user-agent'));
  const fps = parseWhole(req.getQuery('fps'), LIMITS.fps.min, LIMITS.fps.max);
  const width = parseWhole(req.getQuery('width'), LIMITS.renditionWidth.min, LIMITS.renditionWidth.max);
  if (!framing) return refuser.http(res, REFUSALS.badFraming, ctx.cors);
  if (fps === null) return refuser.http(res, REFUSALS.badFps, ctx.cors);
  if (width === null) return refuser.http(res, REFUSALS.badWidth, ctx.cors);
  const remote = ctx.client.address; // TRUSTED_PROXIES: the forwarded client, for limits and stats
  const refusal = admit(o, { rate: Math.min(fps ?? Infinity, hub.frameRate(camera)), remote });
  if (refusal) return refuser.http(res, refusal, ctx.cors);
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
      if (!viewer.closed) refuser.http(res, REFUSALS.noSuchCamera(camera), ctx.cors);
      viewer.aborted();
      release();
      return;
    }
    if (viewer.closed) return;
    if (width !== undefined) viewer.rendition = snapRendition(width, hub.cameraWidth(camera), o.renditionWidths);
    viewer.begin([...STREAM_HEADERS, ...ctx.cors, ...ctx.corp]);
    await hub.watch(viewer);
  })().catch((err: unknown) => {
    log.error({ err, camera }, 'stream failed');
    viewer.close();
  });
};
