/**
 * The viewer page at GET / (the camera wall) and the small page an unauthenticated visitor gets instead.
 * The markup is static: the client script (client/*.ts, served as ES modules by assets.ts) builds the tiles
 * from /api/cameras. Frames come over one WebSocket (/ws) and are drawn on canvases, because a browser opens
 * only ~6 HTTP/1.1 connections per host and a page of <img> streams stalls past that (as Motion's and
 * ZoneMinder's users found); ?view=img shows <img src="/stream/…"> tiles for as many cameras as that allows.
 */
import { PAGE_STYLE } from './style.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const HEAD = `<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<style>${PAGE_STYLE}</style>`;

export function renderPage(defaultCamera: string): string {
  return `<!doctype html>
<html lang="en">
<head>
${HEAD}
<title>camfan</title>
</head>
<body data-default-camera="${escapeHtml(defaultCamera)}">
<header>
<h1>camfan</h1>
<span id="summary" aria-hidden="true"></span>
<label>layout <select id="layout">
<option value="auto">auto</option><option value="1">1</option><option value="2">2×2</option><option value="3">3×3</option><option value="4">4×4</option>
</select></label>
<nav aria-label="views">
<a id="view-canvas" href="?view=canvas">grid</a>
<a id="view-img" href="?view=img">&lt;img&gt; streams</a>
<a href="/video_feed">default camera (${escapeHtml(defaultCamera)})</a>
</nav>
</header>
<div id="banner" role="alert" hidden>connection lost — reconnecting…</div>
<main id="grid" aria-label="cameras"></main>
<div id="announce" class="visually-hidden" aria-live="polite"></div>
<noscript><p>The camera wall needs JavaScript; <a href="/video_feed">the default camera</a> works without it.</p></noscript>
<script type="module" src="/page/main.js"></script>
</body>
</html>
`;
}

/**
 * What / answers without valid credentials: a form that opens the page as /?token=… (the gateway then trades
 * the token for an HttpOnly cookie and the page removes it from the address bar), or, with AUTH_BASIC, a
 * note that the browser asks for a user name and password.
 */
export function renderLogin(basic: boolean): string {
  const body = basic
    ? `<p>This camfan gateway asks for a user name and password (HTTP Basic authentication). Reload the page to get your browser's prompt again.</p>`
    : `<form method="get" action="/">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Open the cameras</button>
</form>
<p>The token is exchanged for a cookie and removed from the address bar.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
${HEAD}
<title>camfan — sign in</title>
</head>
<body class="login">
<main>
<h1>camfan</h1>
${body}
</main>
</body>
</html>
`;
}
