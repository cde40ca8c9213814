/**
 * Static files of the page: the client's ES modules (client/*.ts, compiled next to this file) under
 * /page/<name>.js, the modules it shares with the server (lib/wire/*.mts) under /page/<name>.mjs, and the
 * favicon. Read once at start; the set of names is fixed, so a request can only ever get one of these files.
 *
 * The client imports a shared module as './<name>.mjs', which the browser asks for next to itself; tsc
 * finds it in lib/wire because tsconfig.json lists both folders in rootDirs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Asset {
  contentType: string;
  body: Buffer;
}

/** A camera lens on a dark square; SVG, which Chromium and Firefox accept at /favicon.ico too. */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#1d1d1d"/><rect x="4" y="9" width="18" height="14" rx="3" fill="#8cc8ff"/>
<path d="M22 14l6-4v12l-6-4z" fill="#8cc8ff"/><circle cx="10" cy="16" r="3" fill="#1d1d1d"/></svg>`;

export const FAVICON_ASSET: Asset = { contentType: 'image/svg+xml', body: Buffer.from(FAVICON) };

const MODULE_DIRS = [
  { dir: path.join(__dirname, 'client'), ext: '.js' },
  { dir: path.join(__dirname, '..', '..', 'lib', 'wire'), ext: '.mjs' },
];

function loadClient(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const { dir, ext } of MODULE_DIRS) {
    for (const name of readdirSync(dir)) {
      if (name.endsWith(ext)) out.set(name, { contentType: 'text/javascript; charset=utf-8', body: readFileSync(path.join(dir, name)) });
    }
  }
  return out;
}

let client: Map<string, Asset> | null = null;

/** /page/<name>: one of the client's modules, or null. */
export function pageAsset(name: string): Asset | null {
  client ??= loadClient();
  return client.get(name) ?? null;
}

/** The names served under /page/ (tests load the client from them as a browser would). */
export function pageAssetNames(): string[] {
  client ??= loadClient();
  return [...client.keys()];
}
