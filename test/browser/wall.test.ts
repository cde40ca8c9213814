/**
 * The camera wall in Chromium and Firefox, with 8 cameras of mixed sizes (16:9 and 4:3): the
 * grid fills the screen keeping aspect ratios, tiles open with the keyboard and the URL, layouts live in
 * the URL, fullscreen, axe-core finds nothing serious, favicon and title, tap targets on a phone, light
 * mode, and the token form. Screenshots of the desktop and phone layouts: see screenshot() below.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, startGateway, type GatewayHandle } from '../../harness/procs.js';
import { BROWSERS, type TestBrowser, type TestPage, withBrowser } from './browsers.js';
import { startWall, type CameraSpec, type Wall } from './wall-fixture.js';

const SPECS: CameraSpec[] = Array.from({ length: 8 }, (_, i) => ({ camera: `cam${i}`, width: 320, height: i % 2 ? 240 : 180, fps: 10 }));
/**
 * Screenshots go to test-artifacts/ on every run, and replace the ones in docs/ (shown in the README) only
 * with CAMFAN_UPDATE_SCREENSHOTS=1, so a test run leaves the work tree clean.
 */
async function screenshot(page: TestPage, name: string): Promise<void> {
  const dir = path.join(ROOT, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  await page.screenshot(path.join(dir, name));
  if (process.env.CAMFAN_UPDATE_SCREENSHOTS === '1' && !name.includes('firefox')) copyFileSync(path.join(dir, name), path.join(ROOT, 'docs', name));
}

const AXE = readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** In the page: every tile's state. */
const states = (): string[] => [...document.querySelectorAll('figure')].map((f) => (f as HTMLElement).dataset.state ?? '');
const allLive = (n: number): boolean => [...document.querySelectorAll('figure')].filter((f) => (f as HTMLElement).dataset.state === 'live').length === n;

describe('camera wall', () => {
  let wall: Wall;
  let authed: GatewayHandle;

  before(async () => {
    wall = await startWall(SPECS);
    authed = await startGateway({ REDIS_URL: wall.redis.url, AUTH_TOKEN: 'wall-token-7' });
  });
  after(async () => {
    await authed?.stop();
    await wall?.stop();
  });

  for (const name of BROWSERS) {
    describe(name, () => {
      let browser: TestBrowser;
      let page: TestPage;
      const held = withBrowser(name);
      before(() => ({ browser } = held));

      test('1920×1080: 8 mixed cameras live, pictures cover ≥ 60 % of the viewport with their aspect ratios', async () => {
        page = await browser.newPage({ width: 1920, height: 1080 });
        await page.goto(`${wall.gateway.base}/`);
        await page.waitFor('8 live tiles', allLive, 8, 15000);
        const m = await page.evaluate(() => {
          let area = 0;
          const aspects: Array<[number, number]> = [];
          for (const c of document.querySelectorAll('figure canvas')) {
            const canvas = c as HTMLCanvasElement;
            const r = canvas.getBoundingClientRect();
            const a = canvas.width / canvas.height;
            const w = Math.min(r.width, r.height * a);
            area += w * (w / a);
            aspects.push([a, r.width / r.height]);
          }
          return {
            share: area / (innerWidth * innerHeight),
            aspects,
            title: document.title,
            overflow: document.documentElement.scrollHeight > innerHeight + 1,
          };
        }, null);
        console.log(`# ${name} 1920×1080, 8 cameras: pictures cover ${(m.share * 100).toFixed(1)} % of the viewport`);
        assert.ok(m.share >= 0.6, `pictures cover ${(m.share * 100).toFixed(1)} %`);
        assert.equal(m.overflow, false, 'no scrolling at 1920×1080');
        assert.deepEqual(m.aspects.map(([a]) => a.toFixed(2)).sort(), ['1.33', '1.33', '1.33', '1.33', '1.78', '1.78', '1.78', '1.78']);
        assert.match(m.title, /^camfan — 8 live$/);
        assert.deepEqual(page.errors(), []);
        await screenshot(page, name === 'chromium' ? 'wall-desktop.png' : 'wall-desktop-firefox.png');
      });

      test('keyboard: Tab reaches a tile, Enter fills the viewport (#cam= in the URL), arrows move, Escape closes', async () => {
        for (let i = 0; i < 12; i++) {
          await page.press('Tab');
          if (await page.evaluate(() => document.activeElement?.tagName === 'FIGURE', null)) break;
        }
        const focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '', null);
        assert.match(focused, /^cam0, live, \d+ fps$/, 'the first tile has focus and says what it shows');
        await page.press('Enter');
        const opened = await page.evaluate(() => {
          const r = document.querySelector('figure.open')!.getBoundingClientRect();
          return {
            camera: (document.querySelector('figure.open') as HTMLElement).dataset.camera,
            hash: location.hash,
            fills: r.width === innerWidth && r.height === innerHeight,
          };
        }, null);
        assert.deepEqual(opened, { camera: 'cam0', hash: '#cam=cam0', fills: true });
        await page.press('ArrowRight');
        assert.equal(await page.evaluate(() => location.hash, null), '#cam=cam1');
        await page.waitFor(
          'only the opened camera received, at full size',
          () => {
            const subs = [...(window as unknown as { camfan: { subscriptions: Map<string, string> } }).camfan.subscriptions.entries()];
            return subs.length === 1 && subs[0]![0] === 'cam1' && !subs[0]![1].includes('width');
          },
          null,
        );
        await page.press('Escape');
        assert.deepEqual(await page.evaluate(() => [location.hash, document.querySelectorAll('figure.open').length], null), ['', 0]);
        await page.goto(`${wall.gateway.base}/#cam=cam5`);
        await page.waitFor('cam5 opened from the URL', () => (document.querySelector('figure.open') as HTMLElement | null)?.dataset.camera === 'cam5', null);
        await page.waitFor('cam5 live when opened', () => document.querySelector('figure.open')?.getAttribute('data-state') === 'live', null);
      });

      test('fullscreen from the button (or, where refused, the tile fills the viewport); Escape returns to the grid', async () => {
        await page.goto(`${wall.gateway.base}/`);
        await page.waitFor('8 live tiles', allLive, 8, 15000);
        await page.click('figure[data-camera="cam2"] .cap button');
        const full = await page.evaluate(() => {
          const fig = document.querySelector('figure[data-camera="cam2"]')!;
          const r = fig.getBoundingClientRect();
          return {
            api: document.fullscreenElement === fig,
            fills: Math.round(r.width) === innerWidth && Math.round(r.height) === innerHeight,
            hash: location.hash,
          };
        }, null);
        console.log(`# ${name}: fullscreen ${full.api ? 'by the Fullscreen API' : 'refused; the tile fills the viewport'}`);
        assert.equal(full.fills, true);
        assert.equal(full.hash, '#cam=cam2');
        await page.press('Escape');
        await page.waitFor('back to the grid', () => !document.fullscreenElement && document.querySelectorAll('figure.open').length === 0, null, 5000);
      });

      test('layouts are chosen and kept in the URL', async () => {
        await page.goto(`${wall.gateway.base}/?layout=2`);
        await page.waitFor('8 tiles', () => document.querySelectorAll('figure').length === 8, null);
        const cols = await page.evaluate(() => getComputedStyle(document.getElementById('grid')!).gridTemplateColumns.split(' ').length, null);
        assert.equal(cols, 2);
        await page.evaluate(() => {
          const s = document.getElementById('layout') as HTMLSelectElement;
          s.value = '3';
          s.dispatchEvent(new Event('change'));
        }, null);
        assert.equal(new URL(page.url()).search, '?layout=3');
        assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('grid')!).gridTemplateColumns.split(' ').length, null), 3);
      });

      test('axe-core: no serious or critical violation; tiles, pictures and snapshot links are named per camera', async () => {
        await page.goto(`${wall.gateway.base}/`);
        await page.waitFor('8 live tiles', allLive, 8, 15000);
        await page.addScript(AXE);
        const found = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } })
            .axe;
          const r = await axe.run(document);
          return r.violations.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`);
        }, null);
        console.log(`# ${name} axe-core violations: ${found.length ? found.join(', ') : 'none'}`);
        assert.deepEqual(
          found.filter((v) => /^(serious|critical)/.test(v)),
          [],
        );
        const names = await page.evaluate(() => [...document.querySelectorAll('figure .cap a')].map((a) => a.getAttribute('aria-label')), null);
        assert.deepEqual(
          names,
          SPECS.map((s) => `snapshot of ${s.camera}`),
        );
        assert.equal(await page.evaluate(() => document.getElementById('announce')!.getAttribute('aria-live'), null), 'polite');
        assert.deepEqual(
          await page.evaluate(states, null),
          SPECS.map(() => 'live'),
        );
      });

      test('phone 390×844: tap targets ≥ 44 px; light mode follows prefers-color-scheme; favicon', async () => {
        const phone = await browser.newPage({ width: 390, height: 844, dpr: 3, touch: true, colorScheme: 'light' });
        await phone.goto(`${wall.gateway.base}/`);
        await phone.waitFor('a live tile', () => document.querySelector('figure[data-state="live"]') !== null, null, 15000);
        const m = await phone.evaluate(
          () => ({
            coarse: matchMedia('(pointer: coarse)').matches,
            light: matchMedia('(prefers-color-scheme: light)').matches,
            background: getComputedStyle(document.body).backgroundColor,
            smallest: Math.min(
              ...[...document.querySelectorAll('figure .cap a, figure .cap button')].map((e) =>
                Math.min(e.getBoundingClientRect().width, e.getBoundingClientRect().height),
              ),
            ),
          }),
          null,
        );
        console.log(`# ${name} phone: pointer coarse ${m.coarse}, light ${m.light}, smallest tap target ${m.smallest} px, background ${m.background}`);
        if (m.coarse) assert.ok(m.smallest >= 44, `smallest tap target ${m.smallest} px`);
        assert.equal(m.background === 'rgb(243, 243, 243)', m.light, `background ${m.background} with light=${m.light}`);
        if (name === 'chromium') assert.ok(m.coarse && m.light, 'Chromium emulates a touch screen in light mode');
        await screenshot(phone, name === 'chromium' ? 'wall-phone.png' : 'wall-phone-firefox.png');
        await phone.close();
        const icon = await fetch(`${wall.gateway.base}/favicon.ico`);
        assert.equal(icon.status, 200);
        assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
      });

      test('without credentials / is a form that takes a token; with it the page runs on the cookie', async () => {
        const p = await browser.newPage({ width: 800, height: 600 });
        await p.goto(`${authed.base}/`);
        assert.equal(await p.evaluate(() => document.querySelector('label[for="token"]')?.textContent, null), 'Access token');
        await p.evaluate(() => {
          (document.getElementById('token') as HTMLInputElement).value = 'wall-token-7';
          (document.querySelector('form') as HTMLFormElement).submit();
        }, null);
        await p.waitFor('the wall after the form', () => document.querySelectorAll('figure[data-state="live"]').length > 0, null, 15000);
        assert.equal(new URL(p.url()).search, '', 'the token left the address bar');
        await p.close();
      });
    });
  }
});
