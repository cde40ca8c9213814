/**
 * GET /stream/:camera and /video_feed: an endless multipart/x-mixed-replace response, one MjpegViewer
 * (mjpeg-viewer.ts) that the hub feeds. The query is checked, then the camera, then admission
 * (access/admit.ts: MAX_VIEWERS, MAX_VIEWERS_PER_IP, capacity); the viewer's place is released when it goes.
 */
import { admit, Place } from '../access/admit.js';
import { MjpegViewer } from '../delivery/mjpeg-viewer.js';
import { chooseFraming } from '../delivery/packet.js';
import { snapRendition } from '../adaptation/renditions.js';
import { LIMITS } from '../../lib/ids.js';
import type { Handler } from './context.js';
import { parseWhole } from './query.js';
import { REFUSALS } from './refusals.js';
import { STREAM_HEADERS } from './respond.js';

export const stream: Handler = (res, req, ctx, o) => {
  const { hub, log, refuser } = o;
  const camera = ctx.camera;
  const framing = chooseFraming(req.getQuery('framing'), req.getHeader('user-agent'));
  const fps = parseWhole(req.getQuery('fps'), LIMITS.fps.min, LIMITS.fps.max);
  const width = parseWhole(req.getQuery('width'), LIMITS.renditionWidth.min, LIMITS.renditionWidth.max);
  if (!framing) return refuser.http(res, REFUSALS.badFraming, ctx.cors);
  if (fps === null) return refuser.http(res, REFUSALS.badFps, ctx.cors);
  if (width === null) return refuser.http(res, REFUSALS.badWidth, ctx.cors);
  const remote = ctx.client.address; // TRUSTED_PROXIES: the forwarded client, for limits and stats
  let viewer: MjpegViewer | null = null;
  let place: Place | null = null;
  ctx.onAbort(() => {
    viewer?.aborted();
    if (viewer) hub.unwatch(viewer);
    place?.release();
  });
  void (async () => {
    // The camera first: a request for one that does not exist must cost no place and no projected load.
    if (!(await hub.isKnown(camera))) {
      if (!ctx.aborted) refuser.http(res, REFUSALS.noSuchCamera(camera), ctx.cors);
      return;
    }
    if (ctx.aborted) return;
    const admitted = admit(o, { rate: Math.min(fps ?? Infinity, hub.frameRate(camera)), remote });
    if (!(admitted instanceof Place)) return refuser.http(res, admitted, ctx.cors);
    place = admitted;
    viewer = new MjpegViewer(res, camera, framing, { remote, observer: o.observer, maxFps: fps ?? null });
    if (width !== undefined) viewer.rendition = snapRendition(width, hub.cameraWidth(camera), o.renditionWidths);
    viewer.begin([...STREAM_HEADERS, ...ctx.cors, ...ctx.corp]);
    await hub.watch(viewer);
  })().catch((err: unknown) => {
    log.error({ err, camera }, 'stream failed');
    viewer?.close();
  });
};
