/**
 * One camera's tile: its picture (a canvas fed by the WebSocket, or an <img> stream), its name and numbers
 * on the picture, and one honest state:
 *   waiting  no frame yet;
 *   live     frames arrive;
 *   stale    no new frame for STALE_FRAMES frame intervals: dimmed, with how long;
 *   offline  the capture is gone (the camera list says so, the gateway sends its NO SIGNAL placeholder, or
 *            the camera left the list): since when, from the last *real* frame, never the placeholder's;
 *   paused   not on screen (off-screen, hidden tab, another tile opened): nothing is received for it.
 * While the page's connection is down the page shows one banner instead (main.ts), not a state per tile.
 */
import type { CameraInfo } from './cameras.js';
import { describeAge } from './format.js';
import type { WireFrame } from './wire.js';

export type TileState = 'waiting' | 'live' | 'stale' | 'offline' | 'paused';
export type Kind = 'canvas' | 'img';

const STALE_FRAMES = 5;
const MIN_STALE_MS = 2000;

export class Tile {
  readonly fig: HTMLElement;
  readonly media: HTMLCanvasElement | HTMLImageElement;
  readonly snap: HTMLAnchorElement;
  readonly fullscreenButton: HTMLButtonElement;
  private readonly meta: HTMLElement;
  private readonly stateText: HTMLElement;
  private readonly errorBox: HTMLElement;
  state: TileState = 'waiting';
  /** Receipt time (Date.now()) of the last real frame drawn (canvas) or seen to change (img). */
  lastRealAt = 0;
  lastRealSeq = -1;
  lastRealTs = 0;
  /** Receipt time of the last NO SIGNAL placeholder, and how many came. */
  placeholderAt = 0;
  placeholders = 0;
  /** The camera has left the gateway's list or the gateway said it is gone (code camera_gone). */
  gone = false;
  /** Real frames drawn since the last tick, and the rate they made. */
  framesThisTick = 0;
  /** Real frames drawn since the page opened (placeholders never count). */
  framesTotal = 0;
  fps = 0;
  latencyMs: number | null = null;
  shownWidth = 0;
  shownHeight = 0;
  /** Whether the page receives this camera now (demand.ts), and since when. */
  receiving = false;
  receivingSince = 0;
  /** A smaller picture was asked for and no real frame came (renditions not encoded here): ask for full size. */
  noRenditions = false;
  private next: WireFrame | null = null;
  private decoding = false;

  constructor(
    public info: CameraInfo,
    readonly kind: Kind,
    private readonly ack: (camera: string) => void,
  ) {
    const cam = info.camera;
    this.fig = el('figure', { tabindex: '0', 'data-camera': cam });
    this.media = kind === 'img' ? el('img', { alt: `live video of ${cam}` }) : el('canvas', { role: 'img', 'aria-label': `live video of ${cam}` });
    this.stateText = el('div', { class: 'state', 'aria-hidden': 'true' });
    this.errorBox = el('div', { class: 'error', role: 'status', hidden: '' });
    const cap = el('div', { class: 'cap' });
    const name = el('span', { class: 'name' });
    name.textContent = cam;
    this.meta = el('span', { class: 'meta' });
    this.snap = el('a', { href: `/snapshot/${encodeURIComponent(cam)}`, download: `${cam}.jpg`, 'aria-label': `snapshot of ${cam}` });
    this.snap.textContent = 'snapshot';
    this.fullscreenButton = el('button', { type: 'button', 'aria-label': `fullscreen ${cam}`, title: 'fullscreen (f)' });
    // A drawn icon: the ⛶ character is missing from common fonts.
    this.fullscreenButton.innerHTML =
      '<svg aria-hidden="true" width="14" height="14" viewBox="0 0 14 14" fill="none" stroke="currentColor" stroke-width="2"><path d="M1 5V1h4M9 1h4v4M13 9v4H9M5 13H1V9"/></svg>';
    cap.append(name, this.meta, this.snap, this.fullscreenButton);
    this.fig.append(this.media, this.stateText, this.errorBox, cap);
  }

  get camera(): string {
    return this.info.camera;
  }

  /** Width / height of what the tile shows (the camera's, before the first frame). */
  get aspect(): number {
    const w = this.shownWidth || this.info.width;
    const h = this.shownHeight || this.info.height;
    return w > 0 && h > 0 ? w / h : 4 / 3;
  }

  /** A frame from the socket: placeholders mark the camera offline, real frames are drawn, newest first. */
  onFrame(f: WireFrame): void {
    // A placeholder repeats the last real frame's number with the gateway's time: not a new frame either.
    if (f.placeholder || (f.seq === this.lastRealSeq && f.ts !== this.lastRealTs)) {
      this.placeholderAt = Date.now();
      this.placeholders++;
      this.ack(this.camera);
      return;
    }
    if (this.next) this.ack(this.camera); // replaced before it was drawn: latest frame wins
    this.next = f;
    if (!this.decoding) void this.drawLoop();
  }

  private async drawLoop(): Promise<void> {
    this.decoding = true;
    while (this.next) {
      const f = this.next;
      this.next = null;
      try {
        const bitmap = await createImageBitmap(new Blob([f.jpeg], { type: 'image/jpeg' }));
        const c = this.media as HTMLCanvasElement;
        if (c.width !== bitmap.width || c.height !== bitmap.height) {
          c.width = bitmap.width;
          c.height = bitmap.height;
        }
        c.getContext('2d')!.drawImage(bitmap, 0, 0);
        bitmap.close();
        this.realFrame(f.seq, f.ts, f.width, f.height);
      } catch {
        /* a broken JPEG: skip it */
      }
      this.ack(this.camera);
    }
    this.decoding = false;
  }

  /** A real camera frame is on screen. */
  realFrame(seq: number, ts: number, width: number, height: number): void {
    const now = Date.now();
    this.framesThisTick++;
    this.framesTotal++;
    this.lastRealAt = now;
    this.lastRealSeq = seq;
    this.lastRealTs = ts;
    this.placeholderAt = 0;
    this.gone = false;
    this.latencyMs = ts > 0 ? Math.max(0, Math.round(now - ts)) : null;
    this.shownWidth = width;
    this.shownHeight = height;
    this.media.dataset.seq = String(seq);
  }

  /** The camera's expected frame interval (ms), from its measured rate. */
  intervalMs(): number {
    const fps = this.info.fps > 0 ? this.info.fps : this.info.targetFps;
    return fps > 0 ? 1000 / fps : 1000;
  }

  /** Once a second: the state, caption and accessible name. `skewMs`: gateway clock minus ours. */
  tick(now: number, skewMs: number): TileState {
    this.fps = this.framesThisTick;
    this.framesThisTick = 0;
    const staleMs = Math.max(MIN_STALE_MS, STALE_FRAMES * this.intervalMs());
    const lastAge = this.lastRealAt ? now - this.lastRealAt : this.info.lastFrameAt ? now + skewMs - this.info.lastFrameAt : null;
    const placeholderNow = this.placeholderAt > this.lastRealAt && now - this.placeholderAt < 3000;
    let state: TileState;
    if (this.gone || !this.info.live || placeholderNow) state = 'offline';
    else if (!this.receiving) state = 'paused';
    else if (!this.lastRealAt) state = 'waiting';
    // Just back on screen: the last picture stays up while the first new frame comes.
    else state = now - Math.max(this.lastRealAt, this.receivingSince) > staleMs ? 'stale' : 'live';
    this.state = state;
    this.fig.dataset.state = state;
    const ago = lastAge === null ? 'no frame yet' : `last frame ${describeAge(lastAge)} ago`;
    const since = lastAge === null ? '' : ` since ${new Date(now - lastAge).toLocaleTimeString()}`;
    const size = this.shownWidth ? `${this.shownWidth}×${this.shownHeight}` : `${this.info.width}×${this.info.height}`;
    const fps = this.kind === 'img' ? Math.round(this.info.fps) : this.fps;
    const texts: Record<TileState, [string, string, string]> = {
      waiting: ['waiting for the first frame…', `${size} · waiting`, 'waiting'],
      live: ['', `${size} · ${fps} fps${this.kind === 'canvas' && this.latencyMs !== null ? ` · ${this.latencyMs} ms` : ''}`, `live, ${fps} fps`],
      stale: [`no new frame for ${describeAge(lastAge ?? 0)}`, `${size} · stale · ${ago}`, `stale, ${ago}`],
      offline: [`offline${since} — ${ago}`, `offline · ${ago}`, `offline, ${ago}`],
      paused: ['', `${size} · paused (not on screen)`, 'paused'],
    };
    const [overlay, meta, spoken] = texts[state];
    this.stateText.textContent = overlay;
    this.meta.textContent = meta;
    this.fig.setAttribute('aria-label', `${this.camera}, ${spoken}`);
    return state;
  }

  /** A visible error on the tile for a few seconds (snapshot not available). */
  showError(text: string): void {
    this.errorBox.textContent = text;
    this.errorBox.hidden = false;
    setTimeout(() => (this.errorBox.hidden = true), 6000);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
