/**
 * One honest state per tile, in Chromium and Firefox: a frozen capture goes stale (dimmed, "no
 * new frame for N s"), then offline once the gateway says so, with the age of the last *real* frame; the
 * gateway's NO SIGNAL placeholders arrive but are never counted or drawn as frames; a snapshot of that
 * camera says why there is none; with the gateway down the page shows one "connection lost" banner and no
 * tile claims to be offline; everything is live again after restarts.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sleep, startGateway } from '../../harness/procs.js';
import { BROWSERS, type TestPage, withBrowser } from './browsers.js';
import { cameras, withWall, type Wall } from './wall-fixture.js';

const SPECS = cameras(4);
// A live timeout longer than the default (3 s) leaves a wide window in which a frozen camera is stale (after
// 2 to 3 s: the page's MIN_STALE_MS and its once-a-second tick; or 5 frame intervals of the rate its capture
// measured, which a loaded machine can bring to 5 s) before it is offline (after 10 s).
const LIVE_TIMEOUT_MS = 10_000;

interface TileView {
  state: string;
  overlay: string;
  meta: string;
  label: string;
  frames: number;
  placeholders: number;
}

function tileView(camera: string): TileView {
  const t = (window as unknown as { camfan: { tiles: Map<string, { framesTotal: number; placeholders: number }> } }).camfan.tiles.get(camera)!;
  const fig = document.querySelector(`figure[data-camera="${camera}"]`) as HTMLElement;
  return {
    state: fig.dataset.state!,
    overlay: fig.querySelector('.state')!.textContent!,
    meta: fig.querySelector('.meta')!.textContent!,
    label: fig.getAttribute('aria-label')!,
    frames: t.framesTotal,
    placeholders: t.placeholders,
  };
}

const stateIs = ([camera, state]: [string, string]): boolean => document.querySelector(`figure[data-camera="${camera}"]`)?.getAttribute('data-state') === state;

describe('tile states', () => {
  const walls = withWall(SPECS, { LIVE_TIMEOUT_MS: String(LIVE_TIMEOUT_MS) });
  let wall: Wall;
  before(() => ({ wall } = walls));

  for (const name of BROWSERS) {
    describe(name, () => {
      let page: TestPage;
      const held = withBrowser(name, { width: 1280, height: 800 });
      before(() => ({ page } = held));

      test("a frozen capture is stale, then offline with its last real frame's age; placeholders never count", async () => {
        await page.goto(`${wall.gateway.base}/`);
        await page.waitFor('4 live tiles', () => document.querySelectorAll('figure[data-state="live"]').length === 4, null, 15000);
        const capture = wall.captures.get('cam1')!;
        const frozenAt = Date.now();
        capture.child.kill('SIGSTOP');
        try {
          await page.waitFor('cam1 stale', stateIs, ['cam1', 'stale'], LIVE_TIMEOUT_MS - 1000);
          const stale = await page.evaluate(tileView, 'cam1');
          assert.match(stale.overlay, /^no new frame for \d+(\.\d)? s$/);
          assert.match(stale.label, /^cam1, stale, last frame \d+(\.\d)? s ago$/);
          await page.waitFor('cam1 offline', stateIs, ['cam1', 'offline'], LIVE_TIMEOUT_MS + 8000);
          await page.waitFor(
            "the gateway's first NO SIGNAL for cam1",
            () => (window as unknown as { camfan: { tiles: Map<string, { placeholders: number }> } }).camfan.tiles.get('cam1')!.placeholders > 0,
            null,
            5000,
          );
          const a = await page.evaluate(tileView, 'cam1');
          await sleep(2000);
          const b = await page.evaluate(tileView, 'cam1');
          const age = Number(/last frame (\d+) s ago/.exec(b.overlay)?.[1]);
          const expected = (Date.now() - frozenAt) / 1000;
          console.log(
            `# ${name}: offline overlay "${b.overlay}", caption "${b.meta}", placeholders received ${b.placeholders}, frames ${a.frames} -> ${b.frames}`,
          );
          assert.ok(Math.abs(age - expected) <= 2.5, `last frame ${age} s ago; frozen ${expected.toFixed(1)} s ago`);
          assert.ok(b.placeholders > a.placeholders, 'the gateway keeps sending NO SIGNAL and the page recognises it');
          assert.equal(b.frames, a.frames, 'placeholders are not counted as frames');
          assert.match(b.meta, /^offline · last frame \d+ s ago$/, 'no frame rate or latency while offline');
          assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('figure')].map((f) => f.getAttribute('data-state')), null), [
            'live',
            'offline',
            'live',
            'live',
          ]);
          await page.click('figure[data-camera="cam1"] .cap a');
          await page.waitFor(
            'a visible snapshot error',
            () => {
              const e = document.querySelector('figure[data-camera="cam1"] .error') as HTMLElement;
              return !e.hidden && /^snapshot not available: camera cam1 has no live frame/.test(e.textContent ?? '');
            },
            null,
            5000,
          );
          assert.match(await page.evaluate(() => document.title, null), /^camfan — 3 live · 1 offline$/);
          assert.match(await page.evaluate(() => document.getElementById('announce')!.textContent ?? '', null), /cam1 offline/, 'announced to screen readers');
        } finally {
          capture.child.kill('SIGCONT');
        }
        await page.waitFor('cam1 live again', stateIs, ['cam1', 'live'], 15000);
      });

      test('gateway down: one "connection lost" banner, no tile offline; live again after a restart', async () => {
        await page.goto(`${wall.gateway.base}/`);
        await page.waitFor('4 live tiles', () => document.querySelectorAll('figure[data-state="live"]').length === 4, null, 15000);
        const port = wall.gateway.port;
        await wall.gateway.stop();
        await page.waitFor('the banner', () => !document.getElementById('banner')!.hidden, null, 5000);
        await sleep(3000);
        const down = await page.evaluate(
          () => ({
            title: document.title,
            states: [...document.querySelectorAll('figure')].map((f) => f.getAttribute('data-state')),
            banner: document.getElementById('banner')!.textContent,
          }),
          null,
        );
        assert.equal(down.banner, 'connection lost — reconnecting…');
        assert.equal(down.title, 'camfan — connection lost');
        assert.ok(!down.states.includes('offline'), `no tile says offline: ${down.states.join(',')}`);
        wall.gateway = await startGateway({ REDIS_URL: wall.redis.url, PORT: String(port), LIVE_TIMEOUT_MS: String(LIVE_TIMEOUT_MS) });
        const t0 = Date.now();
        await page.waitFor(
          '4 live tiles after the restart',
          () => document.querySelectorAll('figure[data-state="live"]').length === 4 && document.getElementById('banner')!.hidden,
          null,
          15000,
        );
        console.log(`# ${name}: live again ${((Date.now() - t0) / 1000).toFixed(1)} s after the gateway came back`);
        // Firefox reports each refused WebSocket connection as a page error; they are the point of this test.
        assert.deepEqual(
          page.errors().filter((e) => !/can.t establish a connection to the server at ws:/.test(e)),
          [],
        );
      });
    });
  }
});
