/** The viewer page at GET /: the default camera large, the other cameras below, reconnecting by itself. */

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderPage(defaultCamera: string): string {
  const cam = escapeHtml(defaultCamera);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>camfan</title>
<style>
  body { margin: 0; font: 14px system-ui, sans-serif; background: #111; color: #ddd; }
  header { padding: 8px 16px; display: flex; gap: 16px; align-items: baseline; }
  h1 { font-size: 18px; margin: 0; }
  main { padding: 0 16px 16px; }
  #main { max-width: 100%; background: #000; display: block; min-height: 120px; }
  #status { color: #8a8; }
  #status.off { color: #d66; }
  #cams { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
  #cams a { color: #9cf; padding: 4px 8px; border: 1px solid #345; border-radius: 4px; text-decoration: none; }
  #cams a.current { background: #234; }
  #cams a.offline { color: #888; }
</style>
</head>
<body>
<header><h1>camfan</h1><span id="camera">${cam}</span><span id="status">connecting…</span></header>
<main>
  <img id="main" alt="live video of ${cam}" src="/stream/${encodeURIComponent(defaultCamera)}">
  <div id="cams"></div>
</main>
<script>
(() => {
  const img = document.getElementById('main');
  const status = document.getElementById('status');
  const camsEl = document.getElementById('cams');
  let camera = ${JSON.stringify(defaultCamera)};
  let retry = null;

  function streamUrl(c) { return '/stream/' + encodeURIComponent(c) + '?t=' + Date.now(); }
  function show(c) {
    camera = c;
    document.getElementById('camera').textContent = c;
    img.alt = 'live video of ' + c;
    img.src = streamUrl(c);
    refresh();
  }
  // An <img> stream ends when its gateway restarts or the camera is unknown: try again shortly.
  img.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
    status.className = 'off';
    clearTimeout(retry);
    retry = setTimeout(() => { img.src = streamUrl(camera); }, 1000);
  });
  async function refresh() {
    try {
      const r = await fetch('/api/cameras', { cache: 'no-store' });
      const { cameras } = await r.json();
      camsEl.replaceChildren(...cameras.map((c) => {
        const a = document.createElement('a');
        a.href = '#' + c.camera;
        a.textContent = c.camera + ' ' + c.width + '×' + c.height + ' ' + c.fps + ' fps' + (c.live ? '' : ' (offline)');
        a.className = (c.camera === camera ? 'current ' : '') + (c.live ? '' : 'offline');
        a.onclick = (e) => { e.preventDefault(); show(c.camera); };
        return a;
      }));
      const me = cameras.find((c) => c.camera === camera);
      status.textContent = me ? (me.live ? 'live · ' + me.fps + ' fps' : 'no signal') : 'unknown camera';
      status.className = me && me.live ? '' : 'off';
    } catch {
      status.textContent = 'gateway unreachable';
      status.className = 'off';
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
</script>
</body>
</html>
`;
}
