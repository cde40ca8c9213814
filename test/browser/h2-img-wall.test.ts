/**
 * ?view=img behind deploy/nginx.conf's HTTPS lines (HTTP/2 to the browser, HTTP/1.1 to the gateway), in
 * Chromium and Firefox: the page sees nextHopProtocol 'h2' and makes all 16 cameras <img> streams (over
 * HTTP/1.1 it holds itself to 4), and all 16 play at once on the one connection: each <img> has a picture
 * and the picture keeps changing (the page's own watchdog count of picture changes, framesTotal, grows).
 * Cameras are small (160×120 at 5 fps): 16 capture processes share this machine's 2 cores.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { installCamfan, installStockNginx, makeCert } from '../helpers/nginx.js';
import { freePort, requireTool, run, sleep, waitFor, type Proc } from '../../harness/procs.js';
import { BROWSERS, launch, type TestBrowser, type TestPage } from './browsers.js';
import { cameras, startWall, type Wall } from './wall-fixture.js';

const N = 16;
const SPECS = cameras(N, 160, 120, 5);

interface ImgState {
  kind: string;
  frames: number;
  naturalWidth: number;
}

/** In the page: per tile its kind, the picture changes seen so far and its <img>'s naturalWidth. */
function imgStates(): Record<string, ImgState> {
  const tiles = (window as unknown as { camfan: { tiles: Map<string, { kind: string; framesTotal: number; media: Element }> } }).camfan.tiles;
  return Object.fromEntries(
    [...tiles].map(([c, t]) => [c, { kind: t.kind, frames: t.framesTotal, naturalWidth: t.media instanceof HTMLImageElement ? t.media.naturalWidth : 0 }]),
  );
}

describe('<img> wall over HTTP/2 (nginx with TLS in front)', () => {
  let wall: Wall;
  let nginx: Proc;
  let dir = '';
  let secure = '';

  before(async () => {
    requireTool('nginx', 'sudo apt-get install -y nginx');
    requireTool('openssl', 'sudo apt-get install -y openssl');
    wall = await startWall(SPECS);
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-h2-'));
    makeCert(dir);
    const listen = await freePort();
    const tlsListen = await freePort();
    installStockNginx(dir, listen);
    // As the config's header says: Debian's default site goes (it also claims default_server).
    rmSync(path.join(dir, 'sites-enabled', 'default'));
    installCamfan(dir, listen, tlsListen, [`${wall.gateway.host}:${wall.gateway.port}`]);
    nginx = run('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;']);
    await waitFor('nginx', async () => (await fetch(`http://127.0.0.1:${listen}/healthz`)).ok, 10000);
    secure = `https://localhost:${tlsListen}`;
  });

  after(async () => {
    await nginx?.stop();
    await wall?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const name of BROWSERS) {
    describe(name, () => {
      let browser: TestBrowser;
      let page: TestPage;
      before(async () => {
        browser = await launch(name, { insecureCerts: true });
        page = await browser.newPage({ width: 1280, height: 800 });
      });
      after(async () => {
        await browser?.close();
      });

      test(`${N} cameras: the page comes over h2 and plays all ${N} as <img> streams at once`, async () => {
        const t0 = Date.now();
        await page.goto(`${secure}/?view=img`);
        const protocol = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol, null);
        assert.equal(protocol, 'h2');
        await page.waitFor(`${N} live tiles`, (n: number) => document.querySelectorAll('figure[data-state="live"]').length === n, N, 15000);
        const liveAfter = ((Date.now() - t0) / 1000).toFixed(1);
        const a = await page.evaluate(imgStates, null);
        await sleep(3000);
        const b = await page.evaluate(imgStates, null);
        const kinds = Object.values(b).map((s) => s.kind);
        const live = SPECS.filter(({ camera }) => b[camera]!.kind === 'img' && b[camera]!.naturalWidth > 0 && b[camera]!.frames > a[camera]!.frames);
        console.log(
          `# ${name}: over ${protocol}, ${kinds.filter((k) => k === 'img').length} <img> tiles; ${live.length} of ${N} streams live at once (all tiles live after ${liveAfter} s)`,
        );
        assert.deepEqual(kinds, Array(N).fill('img'));
        for (const { camera } of SPECS) {
          assert.ok(b[camera]!.naturalWidth > 0, `${camera} has a picture`);
          assert.ok(b[camera]!.frames > a[camera]!.frames, `${camera}'s picture changes: ${a[camera]!.frames} -> ${b[camera]!.frames}`);
        }
      });
    });
  }
});
