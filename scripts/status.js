#!/usr/bin/env node
// npm run status: pm2 apps, cameras, and viewers and delivered fps per gateway process, at a glance.
'use strict';
const { spawnSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const port = process.env.PORT || '8080';

function pm2List() {
  const r = spawnSync(path.join(root, 'node_modules', '.bin', 'pm2'), ['jlist'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  try {
    return JSON.parse(r.stdout).filter((a) => a.name.startsWith('camfan-'));
  } catch {
    return [];
  }
}

/** GET on a fresh connection, so that SO_REUSEPORT may hand it to any gateway process. */
function get(p) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
  });
}

(async () => {
  const apps = pm2List();
  console.log('apps');
  if (apps.length === 0) console.log('  none running (npm start)');
  for (const a of apps) {
    const m = a.monit || {};
    console.log(`  ${a.name.padEnd(26)} pid ${String(a.pid).padEnd(8)} ${a.pm2_env.status.padEnd(9)} restarts ${String(a.pm2_env.restart_time).padEnd(4)} cpu ${String(m.cpu ?? 0).padStart(3)}%  mem ${((m.memory ?? 0) / 2 ** 20).toFixed(0)} MB`);
  }
  const cams = await get('/api/cameras');
  console.log(`\ncameras (http://127.0.0.1:${port}/)`);
  if (!cams) console.log('  no gateway answering on port ' + port);
  for (const c of cams?.cameras ?? []) {
    console.log(`  ${c.camera.padEnd(16)} ${c.live ? 'live   ' : 'OFFLINE'} ${c.idle ? 'idle ' : '     '} ${String(c.width)}x${c.height} ${String(c.fps).padStart(3)}/${c.targetFps} fps  ${(c.lastFrameBytes / 1024).toFixed(0)} KB  ${c.source}`);
  }
  const wanted = new Set(apps.filter((a) => a.name === 'camfan-gateway').map((a) => a.pid));
  const seen = new Map();
  for (let i = 0; i < 60 && seen.size < Math.max(1, wanted.size); i++) {
    const s = await get('/api/stats');
    if (s) seen.set(s.pid, s);
  }
  console.log('\nviewers per gateway process');
  for (const [pid, s] of seen) {
    const perCam = new Map();
    for (const v of s.viewers) {
      const e = perCam.get(v.camera) || { n: 0, fps: 0, dropped: 0 };
      e.n++;
      e.fps += v.fps;
      e.dropped += v.dropped;
      perCam.set(v.camera, e);
    }
    const text = [...perCam].map(([cam, e]) => `${cam}: ${e.n} (${(e.fps / e.n).toFixed(1)} fps avg, ${e.dropped} dropped)`).join(', ') || 'none';
    console.log(`  pid ${String(pid).padEnd(8)} ${text}`);
  }
})();
