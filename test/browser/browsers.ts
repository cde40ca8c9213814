/**
 * One small interface over the two browsers the page is tested in: Debian's Chromium driven by
 * playwright-core (CDP) and Debian's firefox-esr driven by puppeteer-core (WebDriver BiDi). Tests written
 * against TestPage run unchanged in both. Never downloads a browser: a missing one fails with its install line.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { type Browser, chromium } from 'playwright-core';

export type BrowserName = 'chromium' | 'firefox';
export const BROWSERS: readonly BrowserName[] = ['chromium', 'firefox'];

const EXECUTABLES: Record<BrowserName, [string, string]> = {
  chromium: ['/usr/bin/chromium', 'sudo apt-get install -y chromium'],
  firefox: ['/usr/bin/firefox-esr', 'sudo apt-get install -y firefox-esr'],
};

export interface PageOptions {
  width: number;
  height: number;
  /** devicePixelRatio (default 1). */
  dpr?: number;
  /** A touch screen: (pointer: coarse). */
  touch?: boolean;
  colorScheme?: 'light' | 'dark';
}

export interface TestPage {
  goto(url: string): Promise<void>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Resolves once fn(arg) is truthy in the page; rejects with `what` after timeoutMs. */
  waitFor<A>(what: string, fn: (arg: A) => unknown, arg: A, timeoutMs?: number): Promise<void>;
  press(key: string): Promise<void>;
  click(selector: string): Promise<void>;
  dblclick(selector: string): Promise<void>;
  addScript(source: string): Promise<void>;
  screenshot(file: string): Promise<void>;
  /** What the browser paints in a rectangle now, as a JPEG. */
  shot(clip: { x: number; y: number; width: number; height: number }): Promise<Buffer>;
  url(): string;
  /**
   * Opens another tab in front of this one (this page's tab is then hidden where the browser says so:
   * Firefox does; headless Chromium keeps every tab visible). Resolves with a function that closes it.
   */
  coverWithTab(): Promise<() => Promise<void>>;
  /** Uncaught script errors in the page so far. */
  errors(): string[];
  close(): Promise<void>;
}

export interface TestBrowser {
  readonly name: BrowserName;
  newPage(o: PageOptions): Promise<TestPage>;
  close(): Promise<void>;
}

function executable(name: BrowserName): string {
  const [file, install] = EXECUTABLES[name];
  if (!existsSync(file)) throw new Error(`${name} is not installed: run \`${install}\` (or npm run setup)`);
  return file;
}

export interface LaunchOptions {
  /** Accept any TLS certificate (a test's self-signed one). */
  insecureCerts?: boolean;
}

/**
 * Debian's Chromium under playwright-core itself, for tests that need more of Playwright than TestPage
 * offers; with `netns`, inside that network namespace (a host of harness/fleet/netns.ts), so that the
 * page's traffic crosses that host's link.
 */
export async function launchPlaywrightChromium(netns?: string): Promise<Browser> {
  const file = executable('chromium');
  // Playwright starts one executable (and talks to it over inherited pipes): a script that execs it in the namespace.
  const dir = netns ? mkdtempSync(path.join(tmpdir(), 'camfan-netns-')) : null;
  const executablePath = dir ? path.join(dir, 'chromium') : file;
  if (dir) writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${netns} ${file} "$@"\n`, { mode: 0o755 });
  const removeDir = (): void => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const browser = await chromium
    .launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    .catch((err: unknown) => {
      removeDir();
      throw err;
    });
  browser.on('disconnected', removeDir);
  return browser;
}

interface Tab {
  bringToFront(): Promise<void>;
  close(): Promise<void>;
}

/** TestPage.coverWithTab, the same with either driver. */
async function coverWithTab(context: { newPage(): Promise<Tab> }, page: Tab): Promise<() => Promise<void>> {
  const other = await context.newPage();
  await other.bringToFront();
  return async () => {
    await other.close();
    await page.bringToFront();
  };
}

async function launchChromium(opts: LaunchOptions): Promise<TestBrowser> {
  const browser = await launchPlaywrightChromium();
  return {
    name: 'chromium',
    close: () => browser.close(),
    async newPage(o) {
      const context = await browser.newContext({
        viewport: { width: o.width, height: o.height },
        deviceScaleFactor: o.dpr ?? 1,
        hasTouch: o.touch ?? false,
        isMobile: o.touch ?? false,
        colorScheme: o.colorScheme ?? 'dark',
        ignoreHTTPSErrors: opts.insecureCerts ?? false,
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      return {
        errors: () => errors,
        goto: async (url) => void (await page.goto(url)),
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        waitFor: async (what, fn, arg, timeoutMs = 10000) => {
          await page.waitForFunction(fn as never, arg, { timeout: timeoutMs }).catch((err: Error) => {
            throw new Error(`chromium: timed out after ${timeoutMs} ms waiting for ${what} (${err.message.split('\n')[0]})`);
          });
        },
        press: (key) => page.keyboard.press(key),
        click: (selector) => page.click(selector),
        dblclick: (selector) => page.dblclick(selector),
        addScript: async (content) => void (await page.addScriptTag({ content })),
        screenshot: async (path) => void (await page.screenshot({ path })),
        shot: (clip) => page.screenshot({ clip, type: 'jpeg', quality: 90 }),
        coverWithTab: () => coverWithTab(context, page),
        url: () => page.url(),
        close: () => context.close(),
      };
    },
  };
}

async function launchFirefox(opts: LaunchOptions): Promise<TestBrowser> {
  // puppeteer-core is an ES module: imported, not required.
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: executable('firefox'),
    headless: true,
    acceptInsecureCerts: opts.insecureCerts ?? false,
  });
  return {
    name: 'firefox',
    close: () => browser.close(),
    async newPage(o) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: o.width, height: o.height, deviceScaleFactor: o.dpr ?? 1, hasTouch: o.touch ?? false, isMobile: o.touch ?? false });
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: o.colorScheme ?? 'dark' }]).catch(() => undefined);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push((err as Error).message));
      return {
        errors: () => errors,
        goto: async (url) => void (await page.goto(url)),
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        waitFor: async (what, fn, arg, timeoutMs = 10000) => {
          await page.waitForFunction(fn as never, { timeout: timeoutMs, polling: 100 }, arg).catch((err: Error) => {
            throw new Error(`firefox: timed out after ${timeoutMs} ms waiting for ${what} (${err.message.split('\n')[0]})`);
          });
        },
        press: (key) => page.keyboard.press(key as never),
        click: (selector) => page.click(selector),
        dblclick: (selector) => page.click(selector, { count: 2 }),
        addScript: async (content) => void (await page.addScriptTag({ content })),
        screenshot: async (path) => void (await page.screenshot({ path: path as `${string}.png` })),
        shot: async (clip) => Buffer.from(await page.screenshot({ clip, type: 'jpeg', quality: 90 })),
        coverWithTab: () => coverWithTab(context, page),
        url: () => page.url(),
        close: () => context.close(),
      };
    },
  };
}

export function launch(name: BrowserName, opts: LaunchOptions = {}): Promise<TestBrowser> {
  return name === 'chromium' ? launchChromium(opts) : launchFirefox(opts);
}

/** Every browser of BROWSERS, launched at the same time; if one fails, the others are closed and its error is thrown. */
export async function launchAll(opts: LaunchOptions = {}): Promise<Map<BrowserName, TestBrowser>> {
  const launched = await Promise.allSettled(BROWSERS.map((name) => launch(name, opts)));
  const ok = launched.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = launched.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await closeAll(ok);
    throw failed.reason;
  }
  return new Map(ok.map((b) => [b.name, b]));
}

export async function closeAll(browsers: Iterable<TestBrowser> | undefined): Promise<void> {
  await Promise.all([...(browsers ?? [])].map((b) => b.close()));
}

/**
 * Launches `name` before the tests of the describe it is called in, with a page of `viewport` when one
 * is given, and closes the browser after them. The fields are set once before() has run.
 */
export function withBrowser(name: BrowserName, viewport?: PageOptions): { browser: TestBrowser; page: TestPage } {
  const held = {} as { browser: TestBrowser; page: TestPage };
  before(async () => {
    held.browser = await launch(name);
    if (viewport) held.page = await held.browser.newPage(viewport);
  });
  after(async () => {
    await held.browser?.close();
  });
  return held;
}
