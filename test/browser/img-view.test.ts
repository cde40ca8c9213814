/**
 * ?view=img in Chromium and Firefox (the wall past a browser's connection limit): with 8 cameras the page opens at most 4 <img>
 * streams (a browser keeps ~6 connections per host) and takes the rest over the WebSocket, so all 8 are live
 * within 6 s and the camera list is not queued behind the streams; after a gateway restart every tile is
 * live again, and streams that froze (a hung gateway) are reopened by the watchdog; running ones are not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sleep, startGateway } from '../../harness/procs.js';
import { BROWSERS, withBrowser } from './browsers.js';
import { cameras, withWall } from './wall-fixture.js';

const SPECS = cameras(8);

/** In the page: real frames (canvas) or picture changes (img) seen per tile so far, and its kind. */
function progress(): Record<string, [string, number]> {
  const tiles = (window as unknown as { camfan: { tiles: Map<string, { kind: string; framesTotal: number }> } }).camfan.tiles;
  return Object.fromEntries([...tiles].map(([c, t]) => [c, [t.kind, t.framesTotal]]));
}

function reopenedCounts(): number[] {
  return [...(window as unknown as { camfan: { feeds: Map<string, { reopened: number }> } }).camfan.feeds.values()].map((f) => f.reopened);
}

describe('<img> view', () => {
  const walls = withWall(SPECS);

  for (const name of BROWSERS) {
    describe(name, () => {
      const held = withBrowser(name, { width: 1280, height: 800 });

      test('8 cameras: 4 <img> streams and 4 WebSocket tiles, all live within 6 s; the camera list answers meanwhile', async () => {
        const { page } = held;
        const { wall } = walls;
        const t0 = Date.now();
        await page.goto(`${wall.gateway.base}/?view=img`);
        await page.waitFor('8 live tiles', () => document.querySelectorAll('figure[data-state="live"]').length === 8, null, 6000);
        console.log(`# ${name}: ?view=img, 8 cameras live after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const a = await page.evaluate(progress, null);
        await sleep(3000);
        const b = await page.evaluate(progress, null);
        assert.deepEqual(
          Object.values(b)
            .map(([kind]) => kind)
            .sort(),
          ['canvas', 'canvas', 'canvas', 'canvas', 'img', 'img', 'img', 'img'],
        );
        for (const s of SPECS) assert.ok(b[s.camera]![1] > a[s.camera]![1], `${s.camera} (${b[s.camera]![0]}) moves: ${a[s.camera]![1]} -> ${b[s.camera]![1]}`);
        const listMs = await page.evaluate(async () => {
          const t = performance.now();
          await (await fetch('/api/cameras', { cache: 'no-store' })).json();
          return performance.now() - t;
        }, null);
        assert.ok(listMs < 1000, `the camera list took ${listMs.toFixed(0)} ms with 4 streams open`);
      });

      test('after a gateway restart every tile is live again, and running streams are left alone', async () => {
        const { page } = held;
        const { wall } = walls;
        const port = wall.gateway.port;
        await wall.gateway.stop();
        await sleep(2000);
        wall.gateway = await startGateway({ REDIS_URL: wall.redis.url, PORT: String(port) });
        const a = await page.evaluate(progress, null);
        const t0 = Date.now();
        await page.waitFor(
          'every tile moving again',
          (before: Record<string, [string, number]>) => {
            const now = (window as unknown as { camfan: { tiles: Map<string, { framesTotal: number }> } }).camfan.tiles;
            return [...now].every(([c, t]) => t.framesTotal > before[c]![1] + 2) && document.querySelectorAll('figure[data-state="live"]').length === 8;
          },
          a,
          20000,
        );
        const reopened = await page.evaluate(reopenedCounts, null);
        console.log(
          `# ${name}: ?view=img live again ${((Date.now() - t0) / 1000).toFixed(1)} s after the gateway came back; streams reopened by the watchdog: ${reopened.join(',')}`,
        );
        // Streams that run are left alone (no reopening loop).
        await sleep(8000);
        assert.deepEqual(await page.evaluate(reopenedCounts, null), reopened);
      });

      test('the watchdog reopens streams that froze while their cameras stayed live (a gateway hung for 7 s)', async () => {
        const { page } = held;
        const { wall } = walls;
        const before = await page.evaluate(reopenedCounts, null);
        wall.gateway.child.kill('SIGSTOP');
        try {
          await sleep(7000);
        } finally {
          wall.gateway.child.kill('SIGCONT');
        }
        const a = await page.evaluate(progress, null);
        await page.waitFor(
          'every tile moving again',
          (prev: Record<string, [string, number]>) => {
            const now = (window as unknown as { camfan: { tiles: Map<string, { framesTotal: number }> } }).camfan.tiles;
            return [...now].every(([c, t]) => t.framesTotal > prev[c]![1] + 2) && document.querySelectorAll('figure[data-state="live"]').length === 8;
          },
          a,
          20000,
        );
        const after = await page.evaluate(reopenedCounts, null);
        console.log(`# ${name}: after a 7-s hang, streams reopened by the watchdog: ${after.map((n, i) => n - before[i]!).join(',')}`);
        assert.ok(
          after.every((n, i) => n > before[i]!),
          'every frozen <img> stream was reopened',
        );
      });
    });
  }
});
