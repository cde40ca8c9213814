/**
 * ?view=img: a tile as a plain <img src="/stream/…"> (what any page can embed). A browser keeps about 6
 * HTTP/1.1 connections per host, so over HTTP/1.1 the page opens at most MAX_IMG_STREAMS of them and leaves
 * the rest for the camera list and snapshots (the other tiles go over the WebSocket). Served over HTTP/2 or
 * HTTP/3 (a front proxy such as deploy/nginx.conf) every stream shares one connection, so every tile is an
 * <img>. An <img> stream says nothing when
 * it freezes (a gateway restart can leave Firefox showing an old frame, or Chromium a black box), so a
 * watchdog reopens a stream that has shown no new picture for FROZEN_FRAMES frame intervals while its
 * camera is live. "New picture": Firefox fires load for every part of a multipart stream (but draws only
 * the first part onto a canvas); Chromium fires load once but draws the current part: so load events
 * count where they keep coming, else a small sample of the pixels, once a second, tells.
 */
import type { Tile } from './tile.js';

export const MAX_IMG_STREAMS = 4;

/** How many tiles may be <img> streams: all of them when the page came over a multiplexing protocol. */
export function imgStreamLimit(): number {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  const protocol = nav?.nextHopProtocol ?? '';
  return protocol === 'h2' || protocol === 'h3' ? Number.POSITIVE_INFINITY : MAX_IMG_STREAMS;
}
const FROZEN_FRAMES = 10;
const MIN_FROZEN_MS = 4000;

const probe = document.createElement('canvas');
probe.width = 32;
probe.height = 18;
const probeCtx = probe.getContext('2d', { willReadFrequently: true })!;

export class ImgFeed {
  /** Streams reopened by the watchdog (the tests read it). */
  reopened = 0;
  private lastHash = -1;
  private loads = 0;
  private loadsSeen = 0;
  private lastChangeAt = 0;
  private startedAt = 0;
  private readonly img: HTMLImageElement;

  constructor(private readonly tile: Tile) {
    this.img = tile.media as HTMLImageElement;
    this.img.onload = () => this.loads++;
    this.img.onerror = () => {
      if (this.tile.receiving) setTimeout(() => this.tile.receiving && this.open(), 1500);
    };
  }

  start(): void {
    if (this.tile.receiving) return;
    this.tile.receiving = true;
    this.tile.receivingSince = Date.now();
    this.open();
  }

  stop(): void {
    this.tile.receiving = false;
    this.img.removeAttribute('src');
  }

  /** Reopens the stream now (the gateway is back after a restart). */
  reopen(): void {
    if (this.tile.receiving) this.open();
  }

  private open(): void {
    // Load events are counted per stream: Chromium fires one per stream, Firefox one per part.
    this.loads = 0;
    this.loadsSeen = 0;
    this.startedAt = Date.now();
    this.lastChangeAt = this.startedAt;
    this.img.src = `/stream/${encodeURIComponent(this.tile.camera)}?t=${this.startedAt}`;
  }

  /** Once a second: did the picture change? Reopen a frozen stream. */
  watch(now: number): void {
    if (!this.tile.receiving) return;
    const loadsCount = this.loads > 1;
    const hash = loadsCount ? null : this.sample();
    if (loadsCount ? this.loads !== this.loadsSeen : hash !== null && hash !== this.lastHash) {
      this.loadsSeen = this.loads;
      this.lastHash = hash ?? -1;
      this.lastChangeAt = now;
      this.tile.realFrame(0, 0, this.img.naturalWidth, this.img.naturalHeight);
    }
    const interval = this.tile.info.fps > 0 ? 1000 / this.tile.info.fps : 1000;
    const frozenMs = Math.max(MIN_FROZEN_MS, FROZEN_FRAMES * interval);
    if (this.tile.info.live && now - this.lastChangeAt > frozenMs && now - this.startedAt > frozenMs) {
      this.reopened++;
      this.open();
    }
  }

  private sample(): number | null {
    if (!this.img.complete || this.img.naturalWidth === 0) return null;
    try {
      probeCtx.drawImage(this.img, 0, 0, probe.width, probe.height);
      const px = probeCtx.getImageData(0, 0, probe.width, probe.height).data;
      let h = 0;
      for (let i = 0; i < px.length; i += 4) h = (Math.imul(h, 31) + px[i]! + (px[i + 1]! << 8) + (px[i + 2]! << 16)) | 0;
      return h;
    } catch {
      return null;
    }
  }
}
