/**
 * The camera wall's CSS. Tiles are sized by the client's layout (client/layout.ts sets the grid's columns
 * and row height); each picture keeps its camera's aspect ratio inside its tile (object-fit: contain) and
 * the caption sits on the picture, so the screen is pictures, not chrome. Light mode follows
 * prefers-color-scheme; pictures keep a black surround in both. Touch screens get 44-px targets.
 */
export const PAGE_STYLE = `
:root { --bg: #111; --fg: #e8e8e8; --muted: #b8b8b8; --link: #8cc8ff; --panel: #1d1d1d; --focus: #ffcc00; --bad: #ff8a80; --banner: #8b0000; }
@media (prefers-color-scheme: light) {
  :root { --bg: #f3f3f3; --fg: #111; --muted: #444; --link: #0645ad; --panel: #fff; --focus: #0050c8; --bad: #a00000; --banner: #a00000; }
}
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; font: 14px/1.35 system-ui, sans-serif; background: var(--bg); color: var(--fg); display: flex; flex-direction: column; }
a { color: var(--link); }
header { display: flex; gap: 6px 16px; align-items: center; flex-wrap: wrap; padding: 4px 10px; }
h1 { font-size: 17px; margin: 0; }
header nav { display: flex; gap: 12px; flex-wrap: wrap; }
@media (max-width: 600px) { header { gap: 0 12px; padding: 2px 8px; } header nav { flex-basis: 100%; } }
#summary { color: var(--muted); }
select, button { font: inherit; color: var(--fg); background: var(--panel); border: 1px solid var(--muted); border-radius: 4px; }
#banner { background: var(--banner); color: #fff; padding: 6px 12px; font-weight: 600; }
#banner[hidden] { display: none; }
#grid { flex: 1; display: grid; gap: 4px; padding: 4px; align-content: start; min-height: 0; }
figure { margin: 0; position: relative; background: #000; overflow: hidden; border-radius: 3px; cursor: zoom-in; min-width: 0; }
figure:focus-visible, figure:focus { outline: 3px solid var(--focus); outline-offset: -3px; }
figure canvas, figure img { width: 100%; height: 100%; display: block; object-fit: contain; }
figure .cap { position: absolute; left: 0; right: 0; bottom: 0; display: flex; gap: 8px; align-items: center; padding: 2px 4px 2px 8px;
  background: rgba(0, 0, 0, .68); color: #fff; font-size: 13px; }
figure .name { font-weight: 700; }
figure .meta { color: #ddd; flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
figure .cap a, figure .cap button { color: #fff; background: transparent; border: 1px solid rgba(255, 255, 255, .5); border-radius: 4px;
  min-height: 26px; min-width: 26px; padding: 0 6px; display: inline-flex; align-items: center; justify-content: center; text-decoration: none; cursor: pointer; }
figure .state { position: absolute; inset: 0 0 30px 0; display: none; align-items: center; justify-content: center; text-align: center;
  padding: 8px; font-size: 17px; font-weight: 600; color: #fff; text-shadow: 0 1px 3px #000; }
figure[data-state="stale"] .state, figure[data-state="offline"] .state, figure[data-state="waiting"] .state { display: flex; }
figure[data-state="stale"] canvas, figure[data-state="stale"] img { opacity: .5; }
figure[data-state="offline"] canvas, figure[data-state="offline"] img { opacity: .25; filter: grayscale(1); }
figure[data-state="offline"] .state { color: #ffb4ab; }
body.disconnected figure canvas, body.disconnected figure img { opacity: .4; }
figure .error { position: absolute; top: 6px; left: 6px; right: 6px; background: #5c0000; color: #fff; padding: 4px 8px; border-radius: 4px; }
figure .error[hidden] { display: none; }
figure.open { position: fixed; inset: 0; z-index: 10; border-radius: 0; cursor: zoom-out; }
figure:fullscreen { cursor: zoom-out; }
body.has-open #grid figure:not(.open) { visibility: hidden; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (pointer: coarse) {
  figure .cap a, figure .cap button, select, header a { min-height: 44px; min-width: 44px; display: inline-flex; align-items: center; justify-content: center; }
  figure .cap { padding: 0 0 0 8px; }
  figure .state { inset: 0 0 46px 0; }
}
body.login main { max-width: 28rem; margin: 12vh auto; padding: 16px; }
body.login form { display: flex; flex-direction: column; gap: 8px; }
body.login input, body.login button { font: inherit; min-height: 44px; padding: 4px 8px; }
`;
