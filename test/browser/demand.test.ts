/**
 * The page asks for what it shows (renditions and the camera wall), measured in Chromium and Firefox as bytes and frames
 * per second received by the page:
 *   - a phone (390×844) with 8 cameras one screen each (?layout=1): only the tiles on screen are received;
 *     before (?demand=off, every camera at full size and rate, as the page used to) and after;
 *   - a 16-camera grid at 1280×800 with renditions (each tile asks for its width on screen) and without
 *     (?renditions=off). Until the captures encode renditions a width subscription gets no real frame and
 *     the page falls back to full size: the numbers then match, and the test says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../../harness/procs.js';
import { BROWSERS, type BrowserName, closeAll, type TestBrowser, type TestPage } from './browsers.js';
import { cameras, startWall, startWallAndBrowsers, type Wall } from './wall-fixture.js';

interface Sample {
  at: number;
  bytes: number;
  frames: Record<string, number>;
  subscriptions: Record<string, string>;
}

function sample(): Sample {
  const c = (window as unknown as { camfan: { stats: { bytes: number }; subscriptions: Map<string, string>; tiles: Map<string, { framesTotal: number }> } })
    .camfan;
  return {
    at: performance.now(),
    bytes: c.stats.bytes,
    frames: Object.fromEntries([...c.tiles].map(([k, t]) => [k, t.framesTotal])),
    subscriptions: Object.fromEntries(c.subscriptions),
  };
}

interface Rates {
  bytesPerSecond: number;
  framesPerSecond: number;
  perCamera: Record<string, number>;
  subscriptions: Record<string, string>;
  /** What the page asked for first. */
  firstAsked: Record<string, string>;
}

/**
 * Every tile the page receives has drawn a real frame since it last changed what it asks for: the page has
 * settled (a tile whose smaller picture never came has fallen back to full size, and that arrives).
 */
function settled(): boolean {
  const tiles = (window as unknown as { camfan: { tiles: Map<string, { receiving: boolean; receivingSince: number; lastRealAt: number }> } }).camfan.tiles;
  const receiving = [...tiles.values()].filter((t) => t.receiving);
  return receiving.length > 0 && receiving.every((t) => t.lastRealAt > t.receivingSince);
}

/**
 * Bytes and real frames per second received by the page over `ms`, once it has settled and then run
 * for another `steadyMs` (the frames after the first ones come at the camera's rate).
 */
async function measure(page: TestPage, url: string, ms: number, steadyMs = 1000): Promise<Rates> {
  await page.goto(url);
  // What the page asks for first (before any fallback to full size).
  await page.waitFor(
    'the first subscriptions',
    () => (window as unknown as { camfan?: { subscriptions: Map<string, string> } }).camfan?.subscriptions.size,
    null,
    15000,
  );
  const firstAsked = (await page.evaluate(sample, null)).subscriptions;
  await page.waitFor('a live tile', () => document.querySelector('figure[data-state="live"]') !== null, null, 15000);
  await page.waitFor('every tile received to have a real frame of what it asks for', settled, null, 15000);
  await sleep(steadyMs);
  const a = await page.evaluate(sample, null);
  await sleep(ms);
  const b = await page.evaluate(sample, null);
  const s = (b.at - a.at) / 1000;
  const perCamera = Object.fromEntries(Object.keys(b.frames).map((k) => [k, (b.frames[k]! - (a.frames[k] ?? 0)) / s]));
  return {
    bytesPerSecond: (b.bytes - a.bytes) / s,
    framesPerSecond: Object.values(perCamera).reduce((x, y) => x + y, 0),
    perCamera,
    subscriptions: b.subscriptions,
    firstAsked,
  };
}

const kB = (n: number): string => `${(n / 1000).toFixed(0)} kB/s`;

/** Launched once for the file (beside the first wall), each test on a page of its own. */
let browsers: Map<BrowserName, TestBrowser> | undefined;
after(async () => {
  await closeAll(browsers?.values());
});

describe('demand: phone, 8 cameras', () => {
  let wall: Wall;
  before(async () => {
    ({ wall, browsers } = await startWallAndBrowsers(cameras(8)));
  });
  after(async () => {
    await wall?.stop();
  });

  for (const name of BROWSERS) {
    test(`${name}: off-screen tiles and hidden tabs are not received (before: every camera, after: what is on screen)`, async () => {
      const page = await browsers!.get(name)!.newPage({ width: 390, height: 844, dpr: 3, touch: true });
      try {
        const beforeRates = await measure(page, `${wall.gateway.base}/?layout=1&demand=off`, 4000);
        const afterRates = await measure(page, `${wall.gateway.base}/?layout=1`, 4000);
        const visible = Object.keys(afterRates.subscriptions);
        const hidden = Object.keys(afterRates.perCamera).filter((c) => !visible.includes(c));
        const visibleFps = Math.min(...visible.map((c) => afterRates.perCamera[c]!));
        const hiddenFps = Math.max(...hidden.map((c) => afterRates.perCamera[c]!));
        console.log(
          `# ${name} phone 390×844, 8 cameras 320×240@10, one per screen: before ${kB(beforeRates.bytesPerSecond)}, ${beforeRates.framesPerSecond.toFixed(1)} frames/s; ` +
            `after ${kB(afterRates.bytesPerSecond)}, ${afterRates.framesPerSecond.toFixed(1)} frames/s (${visible.length} tiles on screen: ${visible.join(',')}; slowest visible ${visibleFps.toFixed(1)} fps, fastest off-screen ${hiddenFps.toFixed(1)} fps)`,
        );
        assert.equal(Object.keys(beforeRates.subscriptions).length, 8, 'before: every camera subscribed');
        assert.ok(visible.length >= 1 && visible.length <= 2, `on screen: ${visible.join(',')}`);
        assert.ok(visibleFps >= 5, `a visible tile runs at ${visibleFps.toFixed(1)} fps`);
        assert.ok(hiddenFps <= visibleFps / 5, `an off-screen tile costs ${hiddenFps.toFixed(1)} fps, a visible one ${visibleFps.toFixed(1)}`);
        assert.ok(afterRates.bytesPerSecond < beforeRates.bytesPerSecond / 2, `${kB(afterRates.bytesPerSecond)} vs ${kB(beforeRates.bytesPerSecond)}`);
        // A hidden tab (Page Visibility) receives nothing; where the browser hides a covered tab (Firefox does,
        // headless Chromium keeps every tab visible), that is checked over 3 s, after what was on the way has come.
        const uncover = await page.coverWithTab();
        const tabHidden = await page
          .waitFor('a hidden tab', () => document.visibilityState === 'hidden', null, 1500)
          .then(
            () => true,
            () => false,
          );
        if (tabHidden) {
          await sleep(1500);
          const bytes = () => (window as unknown as { camfan: { stats: { bytes: number } } }).camfan.stats.bytes;
          const hiddenA = await page.evaluate(bytes, null);
          await sleep(3000);
          const hiddenB = await page.evaluate(bytes, null);
          await uncover();
          console.log(`# ${name}: a covered tab is hidden; it received ${kB((hiddenB - hiddenA) / 3)} while covered`);
          assert.equal(hiddenB - hiddenA, 0, 'a hidden tab receives nothing');
        } else {
          await uncover();
          console.log(`# ${name}: a covered tab stays visible (after 1.5 s): nothing to check`);
        }
        await page.waitFor(
          'frames again once visible',
          () =>
            document.visibilityState === 'visible' && (window as unknown as { camfan: { subscriptions: Map<string, string> } }).camfan.subscriptions.size > 0,
          null,
          5000,
        );
        // Scrolling brings the next camera on screen: it is received, the one that left is not.
        await page.evaluate(() => window.scrollTo(0, document.querySelectorAll('figure')[3]!.getBoundingClientRect().top + window.scrollY), null);
        await page.waitFor(
          'cam3 received after scrolling',
          () => {
            const subs = (window as unknown as { camfan: { subscriptions: Map<string, string> } }).camfan.subscriptions;
            return subs.has('cam3') && !subs.has('cam0') && document.querySelector('figure[data-camera="cam3"]')?.getAttribute('data-state') === 'live';
          },
          null,
          8000,
        );
      } finally {
        await page.close();
      }
    });
  }
});

describe('demand: 16-camera grid at 1280×800, with and without renditions', () => {
  let wall: Wall;
  before(async () => {
    wall = await startWall(cameras(16, 640, 360, 5));
  });
  after(async () => {
    await wall?.stop();
  });

  for (const name of BROWSERS) {
    test(`${name}: each tile asks for its width on screen; bytes per second with and without renditions`, async () => {
      const page = await browsers!.get(name)!.newPage({ width: 1280, height: 800 });
      try {
        const full = await measure(page, `${wall.gateway.base}/?renditions=off`, 5000);
        const sized = await measure(page, `${wall.gateway.base}/`, 5000);
        const firstWidths = Object.values(sized.firstAsked).map((m) => (JSON.parse(m) as { width?: number }).width ?? null);
        assert.equal(firstWidths.length, 16);
        assert.ok(
          firstWidths.every((w) => w !== null && w >= 250 && w <= 400),
          `tiles about 318 px wide first ask for about that: ${JSON.stringify(firstWidths)}`,
        );
        const asked = Object.values(sized.subscriptions).map((m) => (JSON.parse(m) as { width?: number }).width ?? null);
        const list = (await (await fetch(`${wall.gateway.base}/api/cameras`)).json()) as {
          cameras: Array<{ renditions?: Array<{ width: number; fps: number }> }>;
        };
        const encoded = list.cameras.filter((c) => (c.renditions ?? []).some((r) => r.fps > 0)).length;
        console.log(
          `# ${name} 16 cameras 640×360@5 at 1280×800: without renditions ${kB(full.bytesPerSecond)}, ${full.framesPerSecond.toFixed(1)} frames/s; ` +
            `with ${kB(sized.bytesPerSecond)}, ${sized.framesPerSecond.toFixed(1)} frames/s; widths asked first ${JSON.stringify(firstWidths)}, after ${JSON.stringify(asked)}; cameras encoding a rendition: ${encoded}`,
        );
        assert.ok(
          Object.values(full.subscriptions).every((m) => !m.includes('width')),
          'renditions=off asks for full size',
        );
        assert.equal(Object.keys(full.subscriptions).length, 16);
        assert.ok(full.framesPerSecond >= 16 * 3, `16 tiles live without renditions: ${full.framesPerSecond.toFixed(1)} frames/s`);
        assert.ok(sized.framesPerSecond >= 16 * 3, `16 tiles live with renditions asked for: ${sized.framesPerSecond.toFixed(1)} frames/s`);
        if (encoded === 0) {
          // Renditions not encoded yet: every tile asked for its width, got nothing real, and fell back to full size.
          assert.ok(
            asked.every((w) => w === null),
            `fell back to full size: ${JSON.stringify(asked)}`,
          );
        } else {
          assert.ok(
            asked.every((w) => w !== null && w <= 400),
            `tiles ~318 px wide ask for about that: ${JSON.stringify(asked)}`,
          );
          assert.ok(sized.bytesPerSecond < full.bytesPerSecond / 2, `${kB(sized.bytesPerSecond)} with renditions vs ${kB(full.bytesPerSecond)}`);
        }
      } finally {
        await page.close();
      }
    });
  }
});
