/**
 * The viewer page at GET /: every camera live in a grid. Frames come over one WebSocket (/ws) and are
 * drawn on canvases, because a browser opens only ~6 HTTP/1.1 connections per host and a page of <img>
 * streams stalls past that (Motion#1333, ZoneMinder#2940). ?view=img shows plain <img src="/stream/…">
 * tiles instead, the way any other page can embed a camera. Each tile shows name, size, frame rate and the
 * latency from capture to screen, enlarges on click, downloads a snapshot, says "offline" when its camera
 * has no live frame, and the page reconnects by itself after a gateway restart. A ?token= in its URL is
 * traded for a cookie by the gateway (access.ts tokenCookie) and removed from the address bar here.
 */

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px system-ui, sans-serif; background: #111; color: #ddd; }
  header { padding: 8px 16px; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  h1 { font-size: 18px; margin: 0; }
  header a { color: #9cf; }
  #status.off { color: #d66; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 8px; padding: 0 16px 16px; }
  figure { margin: 0; background: #000; position: relative; cursor: zoom-in; border: 1px solid #333; }
  figure.enlarged { grid-column: 1 / -1; cursor: zoom-out; }
  figure canvas, figure img { width: 100%; display: block; aspect-ratio: 4 / 3; object-fit: contain; background: #000; }
  figcaption { display: flex; gap: 10px; padding: 4px 8px; background: #1b1b1b; align-items: center; }
  figcaption .name { font-weight: 600; }
  figcaption .meta { color: #999; flex: 1; }
  figcaption a { color: #9cf; }
  .offline { position: absolute; inset: 0 0 30px 0; display: none; align-items: center; justify-content: center; background: rgba(0,0,0,.7); color: #d66; font-size: 18px; }
  figure.is-offline .offline { display: flex; }
`;

/** Runs in the browser. Kept as a plain script (no build step); see bus/frame.ts for the message layout. */
const SCRIPT = `
(() => {
  const params = new URLSearchParams(location.search);
  const view = params.get('view') === 'img' ? 'img' : 'canvas';
  // With AUTH_TOKEN set, open the page as /?token=…: the gateway answered with an HttpOnly cookie that
  // carries the token on every request the page makes, so the token leaves the address bar (and with it
  // history, bookmarks, screenshots and Referer headers) and appears in no URL the page requests.
  if (params.has('token')) {
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
  const grid = document.getElementById('grid');
  const statusEl = document.getElementById('status');
  const tiles = new Map();
  let ws = null;
  let wsBackoff = 500;

  function setStatus(text, ok) { statusEl.textContent = text; statusEl.className = ok ? '' : 'off'; }

  function tile(cam) {
    let t = tiles.get(cam.camera);
    if (t) return t;
    const fig = document.createElement('figure');
    fig.dataset.camera = cam.camera;
    const media = document.createElement(view === 'img' ? 'img' : 'canvas');
    media.alt = 'live video of ' + cam.camera;
    const offline = document.createElement('div');
    offline.className = 'offline';
    const cap = document.createElement('figcaption');
    const name = document.createElement('span'); name.className = 'name'; name.textContent = cam.camera;
    const meta = document.createElement('span'); meta.className = 'meta';
    const snap = document.createElement('a'); snap.textContent = 'snapshot';
    snap.href = '/snapshot/' + encodeURIComponent(cam.camera);
    snap.download = cam.camera + '.jpg';
    snap.onclick = (e) => e.stopPropagation();
    cap.append(name, meta, snap);
    fig.append(media, offline, cap);
    fig.onclick = () => fig.classList.toggle('enlarged');
    if (cam.camera === ${'${DEFAULT}'}) grid.prepend(fig); else grid.append(fig);
    t = { fig, media, meta, offline, info: cam, frames: 0, fps: 0, latency: null, lastFrameAt: 0, decoding: false, next: null, seq: -1 };
    tiles.set(cam.camera, t);
    if (view === 'img') startImg(t); else if (ws && ws.readyState === 1) subscribe(cam.camera);
    return t;
  }

  // <img> mode: one HTTP stream per tile; it ends when a gateway restarts, so retry.
  function startImg(t) {
    t.media.onerror = () => setTimeout(() => { t.media.src = streamUrl(t.info.camera); }, 1000);
    t.media.onload = () => { t.lastFrameAt = Date.now(); };
    t.media.src = streamUrl(t.info.camera);
  }
  function streamUrl(c) { return '/stream/' + encodeURIComponent(c) + '?t=' + Date.now(); }

  function subscribe(camera) { ws.send(JSON.stringify({ subscribe: camera })); }

  function connect() {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { wsBackoff = 500; setStatus('live', true); for (const c of tiles.keys()) subscribe(c); };
    ws.onmessage = (e) => { if (typeof e.data === 'string') return; onFrame(e.data); };
    ws.onclose = () => {
      setStatus('reconnecting…', false);
      setTimeout(connect, wsBackoff);
      wsBackoff = Math.min(wsBackoff * 2, 5000);
    };
  }

  // bus/frame.ts: 'CF', version 1, id length, seq f64, timestamp f64 (ms), width u16, height u16, id, JPEG.
  function onFrame(buf) {
    const v = new DataView(buf);
    if (v.getUint8(0) !== 0x43 || v.getUint8(1) !== 0x46 || v.getUint8(2) !== 1) return;
    const idLen = v.getUint8(3);
    const frame = { seq: v.getFloat64(4), ts: v.getFloat64(12), width: v.getUint16(20), height: v.getUint16(22),
      camera: new TextDecoder().decode(new Uint8Array(buf, 24, idLen)), jpeg: new Uint8Array(buf, 24 + idLen) };
    const t = tiles.get(frame.camera);
    if (!t) return;
    // Latest frame wins here too: while one decode runs, keep only the newest frame.
    t.next = frame;
    if (!t.decoding) draw(t);
  }

  async function draw(t) {
    t.decoding = true;
    while (t.next) {
      const f = t.next;
      t.next = null;
      try {
        const bitmap = await createImageBitmap(new Blob([f.jpeg], { type: 'image/jpeg' }));
        const c = t.media;
        if (c.width !== bitmap.width || c.height !== bitmap.height) { c.width = bitmap.width; c.height = bitmap.height; }
        c.getContext('2d').drawImage(bitmap, 0, 0);
        bitmap.close();
        t.frames++;
        t.seq = f.seq;
        t.lastFrameAt = Date.now();
        t.latency = Date.now() - f.ts;
        c.dataset.seq = String(f.seq);
      } catch { /* a broken JPEG: skip it */ }
    }
    t.decoding = false;
  }

  async function refresh() {
    try {
      const r = await fetch('/api/cameras', { cache: 'no-store' });
      const { cameras } = await r.json();
      for (const cam of cameras) tile(cam).info = cam;
      if (view === 'img') setStatus('live', true);
    } catch {
      setStatus('gateway unreachable', false);
    }
  }

  // Once a second: frame rate as drawn here, latency, offline state.
  setInterval(() => {
    const now = Date.now();
    for (const t of tiles.values()) {
      t.fps = t.frames; t.frames = 0;
      const live = t.info.live && (view === 'img' || now - t.lastFrameAt < 3000);
      t.fig.classList.toggle('is-offline', !live);
      t.offline.textContent = t.lastFrameAt ? 'offline — no frame for ' + Math.round((now - t.lastFrameAt) / 1000) + ' s' : 'offline';
      const size = t.info.width + '×' + t.info.height;
      t.meta.textContent = view === 'img'
        ? size + ' · ' + t.info.fps + ' fps'
        : size + ' · ' + t.fps + ' fps · ' + (t.latency === null ? '–' : t.latency + ' ms');
    }
    refresh();
  }, 1000);

  refresh().then(() => { if (view === 'canvas') connect(); });
})();
`;

export function renderPage(defaultCamera: string): string {
  const script = SCRIPT.replace('${DEFAULT}', JSON.stringify(defaultCamera).replace(/</g, '\\u003c'));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>camfan</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>camfan</h1><span id="status">connecting…</span>
<span>default camera: <a href="/video_feed">${escapeHtml(defaultCamera)}</a></span>
<a href="?view=canvas">grid (WebSocket)</a> <a href="?view=img">&lt;img&gt; streams</a></header>
<main id="grid"></main>
<script>${script}</script>
</body>
</html>
`;
}
