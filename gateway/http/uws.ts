/**
 * uWebSockets.js, refusing the pure-JS fallback: the unofficial build we depend on silently falls back to
 * a slow Node implementation when its native binary does not load (wrong Node ABI or glibc), which would
 * serve a fraction of the viewers with no warning in production.
 */
import uWS from 'uWebSockets.js';

export function loadNativeUws(): typeof uWS {
  if (!Function.prototype.toString.call(uWS.App).includes('[native code]')) {
    throw new Error(
      `uWebSockets.js loaded its pure-JS fallback instead of the native binary (Node ${process.version}, ABI ${process.versions.modules}); ` +
        'refusing to start. Use Node 20 on Linux x64 with glibc, and check the warning printed above.',
    );
  }
  return uWS;
}

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
