/**
 * Static files of the page: the client's ES modules (client/*.ts, compiled next to this file) under
 * /page/<name>.js, and the favicon. Read once at start; the set of names is fixed, so a request can only
 * ever get one of these files.
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

function loadClient(): Map<string, Asset> {
  const dir = path.join(__dirname, 'client');
  const out = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.js')) out.set(name, { contentType: 'text/javascript; charset=utf-8', body: readFileSync(path.join(dir, name)) });
  }
  return out;
}

let client: Map<string, Asset> | null = null;

/** /page/<name>: one of the client's modules, or null. */
export function pageAsset(name: string): Asset | null {
  client ??= loadClient();
  return client.get(name) ?? null;
}
