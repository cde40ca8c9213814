/**
 * The camera wall (GET /, markup in gateway/page/html.ts). Builds a tile per camera from /api/cameras,
 * lays them out to fill the window (layout.ts), receives canvas tiles over one WebSocket (socket.ts) and,
 * with ?view=img, up to MAX_IMG_STREAMS tiles (every tile over HTTP/2) as <img> streams (imgfeed.ts);
 * asks only for what is seen, at the size it is seen (demand.ts); keeps one state per tile (tile.ts) and one banner for the page;
 * opens a camera by click, keyboard or URL (keys.ts). URL: ?view=img, ?layout=auto|1|2|3|4, #cam=<id>,
 * and for measuring ?demand=off, ?renditions=off.
 */
import { fetchCameras, type CameraInfo } from './cameras.js';
import { wantedFor, type DemandContext } from './demand.js';
import { ImgFeed, imgStreamLimit } from './imgfeed.js';
import { cameraFromHash, hashFor, installKeys, wireTile, type Wall } from './keys.js';
import { chooseShape, LAYOUTS, type LayoutChoice } from './layout.js';
import { FrameSocket, type Wanted } from './socket.js';
import { Tile, type TileState } from './tile.js';

const params = new URLSearchParams(location.search);
const view = params.get('view') === 'img' ? 'img' : 'canvas';
const imgLimit = imgStreamLimit();
const layoutParam = params.get('layout') as LayoutChoice | null;
let layoutChoice: LayoutChoice = layoutParam && LAYOUTS.includes(layoutParam) ? layoutParam : 'auto';
const demandOff = params.get('demand') === 'off';
const renditionsOff = params.get('renditions') === 'off';
const defaultCamera = document.body.dataset.defaultCamera ?? '';
const GAP = 4;
/** A smaller picture asked for must show a real frame within this long, else the tile asks for full size. */
const RENDITION_GRACE_MS = 4000;
/** A live camera's subscription that brings nothing for this long is asked again. */
const RENEW_AFTER_MS = 10000;

const grid = document.getElementById('grid')!;
const banner = document.getElementById('banner')!;
const summary = document.getElementById('summary')!;
const announcer = document.getElementById('announce')!;
const layoutSelect = document.getElementById('layout') as HTMLSelectElement;

const tiles = new Map<string, Tile>();
const feeds = new Map<string, ImgFeed>();
const onScreen = new Set<string>();
const wanted = new Map<string, Wanted | null>();
let openCamera: string | null = null;
let skewMs = 0;
let listFailures = 0;

// With AUTH_TOKEN set, the page opened with the token in its query got an HttpOnly cookie that carries it on every
// request the page makes: the token leaves the address bar (history, bookmarks, Referer) and every URL.
if (params.has('token')) {
  params.delete('token');
  replaceUrl();
}

function replaceUrl(): void {
  const q = params.toString();
  history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + hashFor(openCamera));
}

const socket = new FrameSocket({
  frame: (f) => tiles.get(f.camera)?.onFrame(f),
  connection: (up) => {
    // Back after an outage: <img> streams ended with the old gateway; reopen them now rather than at the watchdog.
    if (up && socket.stats.connects > 1) for (const f of feeds.values()) f.reopen();
    showConnection();
  },
  error: (code, message, camera) => {
    // Codes, not texts, decide (gateway/http/refusals.ts): the texts are for people and may change.
    const t = camera === undefined ? undefined : tiles.get(camera);
    if (!t || code === 'nothing_to_ack') return;
    // The gateway dropped or refused this subscription: asked again once the camera is live (updateDemand).
    socket.forget(t.camera);
    if (code === 'camera_gone') t.gone = true;
    else t.showError(message);
  },
});

const visibility = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const camera = (e.target as HTMLElement).dataset.camera!;
    if (e.isIntersecting) onScreen.add(camera);
    else onScreen.delete(camera);
  }
  updateDemand();
});

const wall: Wall = {
  tiles: () => [...tiles.values()],
  get openCamera() {
    return openCamera;
  },
  setOpen(camera) {
    const next = camera !== null && tiles.has(camera) ? camera : null;
    if (next === openCamera) return;
    if (openCamera !== null) tiles.get(openCamera)?.fig.classList.remove('open');
    openCamera = next;
    document.body.classList.toggle('has-open', next !== null);
    if (next !== null) {
      const fig = tiles.get(next)!.fig;
      fig.classList.add('open');
      if (document.fullscreenElement && document.fullscreenElement !== fig) void fig.requestFullscreen().catch(() => undefined);
      fig.focus();
    } else if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
    }
    replaceUrl();
    updateDemand();
  },
};

function addTile(info: CameraInfo): Tile {
  const kind = view === 'img' && feeds.size < imgLimit ? 'img' : 'canvas';
  const tile = new Tile(info, kind, (camera) => socket.ack(camera));
  tiles.set(info.camera, tile);
  if (kind === 'img') feeds.set(info.camera, new ImgFeed(tile));
  wireTile(wall, tile);
  tile.snap.addEventListener('click', (e) => void snapshot(e, tile));
  if (info.camera === defaultCamera) grid.prepend(tile.fig);
  else grid.append(tile.fig);
  visibility.observe(tile.fig);
  return tile;
}

/** Downloads a snapshot, or says on the tile why there is none (instead of a silent failed download). */
async function snapshot(e: MouseEvent, tile: Tile): Promise<void> {
  e.preventDefault();
  try {
    const r = await fetch(tile.snap.href, { cache: 'no-store' });
    if (!r.ok) return tile.showError(`snapshot not available: ${(await r.text()).trim() || `HTTP ${r.status}`}`);
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `${tile.camera}-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch {
    tile.showError('snapshot not available: the gateway does not answer');
  }
}

async function refreshCameras(): Promise<void> {
  try {
    const list = await fetchCameras();
    skewMs = list.skewMs;
    listFailures = 0;
    const seen = new Set<string>();
    let added = false;
    for (const info of list.cameras) {
      seen.add(info.camera);
      const t = tiles.get(info.camera);
      if (t) {
        t.info = info;
      } else {
        addTile(info);
        added = true;
      }
    }
    for (const t of tiles.values()) t.gone = !seen.has(t.camera) || (t.gone && !t.info.live);
    if (added) {
      layout();
      const fromUrl = cameraFromHash();
      if (fromUrl !== null && openCamera === null) wall.setOpen(fromUrl);
    }
  } catch {
    listFailures++;
  }
  showConnection();
}

/** One banner for the page while the gateway cannot be reached, instead of every tile saying offline. */
function showConnection(): void {
  const socketNeeded = [...tiles.values()].some((t) => t.kind === 'canvas');
  const down = (socketNeeded && !socket.up && socket.stats.connects + listFailures > 0) || listFailures >= 2;
  banner.hidden = !down;
  document.body.classList.toggle('disconnected', down);
}

function layout(): void {
  const top = grid.getBoundingClientRect().top + window.scrollY;
  const width = grid.clientWidth - 2 * GAP;
  const height = Math.max(120, window.innerHeight - top - 2 * GAP);
  const shape = chooseShape(
    layoutChoice,
    [...tiles.values()].map((t) => t.aspect),
    width,
    height,
    GAP,
  );
  grid.style.gridTemplateColumns = `repeat(${shape.columns}, minmax(0, 1fr))`;
  grid.style.gridAutoRows = `${Math.floor(shape.rowHeight)}px`;
  updateDemand();
}

function updateDemand(): void {
  const ctx: DemandContext = { open: openCamera, tabHidden: document.hidden, demandOff, renditionsOff, dpr: window.devicePixelRatio || 1 };
  const now = Date.now();
  for (const t of tiles.values()) {
    const w = wantedFor(t, onScreen.has(t.camera), ctx, wanted.get(t.camera) ?? null);
    const feed = feeds.get(t.camera);
    if (feed) {
      if (w) feed.start();
      else feed.stop();
      continue;
    }
    const before = wanted.get(t.camera) ?? null;
    socket.want(t.camera, w); // sends nothing when the gateway already has this subscription
    if (JSON.stringify(before) === JSON.stringify(w)) continue;
    wanted.set(t.camera, w);
    t.receiving = w !== null;
    t.receivingSince = now;
  }
}

/**
 * A subscription that brings no real frame while its camera is live is asked again: one that asked for a
 * smaller picture and got none (only placeholders or nothing) within RENDITION_GRACE_MS asks for full size,
 * and any other is renewed after RENEW_AFTER_MS.
 */
function heal(now: number): void {
  for (const t of tiles.values()) {
    const w = wanted.get(t.camera);
    if (!w || t.kind !== 'canvas' || !t.info.live || t.gone || !socket.up) continue;
    const quietMs = now - Math.max(t.lastRealAt, t.receivingSince);
    // A camera that publishes rarely (a static scene) is quiet for longer without anything being wrong.
    const interval = t.intervalMs();
    if (w.width && !t.noRenditions && quietMs > Math.max(RENDITION_GRACE_MS, 3 * interval)) {
      t.noRenditions = true;
      updateDemand();
    } else if (quietMs > Math.max(RENEW_AFTER_MS, 10 * interval)) {
      socket.forget(t.camera);
      t.receivingSince = now;
      updateDemand();
    }
  }
}

const spoken = new Map<string, TileState>();
function tick(): void {
  const now = Date.now();
  const counts: Record<TileState, number> = { waiting: 0, live: 0, stale: 0, offline: 0, paused: 0 };
  const changes: string[] = [];
  for (const t of tiles.values()) {
    feeds.get(t.camera)?.watch(now);
    const state = t.tick(now, skewMs);
    counts[state]++;
    const before = spoken.get(t.camera);
    // Changes worth a screen reader's attention: not the first frames arriving, not tiles scrolling away.
    const quiet = before === undefined || before === 'waiting' || before === 'paused' || state === 'paused';
    if (!quiet && before !== state) changes.push(`${t.camera} ${state}`);
    spoken.set(t.camera, state);
  }
  heal(now);
  const parts = [`${counts.live + counts.paused} live`, counts.stale && `${counts.stale} stale`, counts.offline && `${counts.offline} offline`].filter(Boolean);
  const text = banner.hidden ? parts.join(' · ') : 'connection lost';
  summary.textContent = text;
  document.title = `camfan — ${text}`;
  if (changes.length > 0) announcer.textContent = changes.join(', ');
}

layoutSelect.value = layoutChoice;
layoutSelect.addEventListener('change', () => {
  layoutChoice = layoutSelect.value as LayoutChoice;
  if (layoutChoice === 'auto') params.delete('layout');
  else params.set('layout', layoutChoice);
  replaceUrl();
  layout();
});
document.getElementById(view === 'img' ? 'view-img' : 'view-canvas')?.setAttribute('aria-current', 'page');
window.addEventListener('resize', () => layout());
document.addEventListener('visibilitychange', () => updateDemand());
installKeys(wall);

// For tests and the console: what reached the page, and what it asked for.
(window as unknown as { camfan: unknown }).camfan = {
  stats: socket.stats,
  subscriptions: socket.sent,
  tiles,
  feeds,
  frames: () => [...tiles.values()].reduce((n, t) => n + t.framesTotal, 0),
};

void refreshCameras().then(() => {
  socket.connect();
  setInterval(() => void refreshCameras(), 2000);
  setInterval(tick, 1000);
  setInterval(() => updateDemand(), 1000);
  tick();
});
