#!/usr/bin/env node
// npm start: starts camfan under pm2 (ecosystem.config.js), waits until a gateway is ready, prints the URL.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pm2 = path.join(root, 'node_modules', '.bin', 'pm2');
if (!existsSync(pm2) || !existsSync(path.join(root, 'dist', 'gateway', 'main.js'))) {
  console.error('camfan is not set up yet: run `npm run setup` first');
  process.exit(1);
}

const r = spawnSync(pm2, ['start', path.join(root, 'ecosystem.config.js')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) process.exit(r.status ?? 1);

// Where the gateways listen and what they want to be asked, as pm2 recorded it (as npm run status does).
const { askGateway, camfanApps, gatewayTarget } = require('./pm2-apps.js');
const gatewayApp = camfanApps().find((a) => a.name === 'camfan-gateway');
const target = gatewayApp ? gatewayTarget(gatewayApp) : { host: '127.0.0.1', port: Number(process.env.PORT || 8080), viewer: '', hostHeader: '' };
const port = String(target.port);
const deadline = Date.now() + 45000;
let said = '';
const say = (text) => {
  if (text !== said) console.log(`  … waiting for ${text}`);
  said = text;
};

function appsNotOnline() {
  const r = spawnSync(pm2, ['jlist'], { encoding: 'utf8', cwd: root });
  try {
    return JSON.parse(r.stdout)
      .filter((a) => a.name.startsWith('camfan-') && a.pm2_env.status !== 'online')
      .map((a) => `${a.name} (${a.pm2_env.status})`);
  } catch {
    return [];
  }
}

async function json(p) {
  const r = await askGateway(target, p, target.viewer);
  return r.status ? { ok: r.status === 200, body: r.body ?? {} } : null;
}

(async function poll() {
  const pending = appsNotOnline();
  const ready = await json('/readyz');
  const cams = ready?.ok ? await json('/api/cameras') : null;
  const live = (cams?.body.cameras ?? []).filter((c) => c.live).map((c) => c.camera);
  if (pending.length) say(`pm2 apps: ${pending.join(', ')}`);
  else if (!ready) say(`a gateway to listen on port ${port}`);
  else if (!ready.ok) say('the gateways to reach Redis');
  else if (live.length === 0 && Date.now() < deadline - 30000) say('a first frame from the camera');
  else {
    const cam = process.env.CAMERA_ID || cams?.body.defaultCamera || 'cam0';
    console.log(`\ncamfan is running${live.length ? ` (live: ${live.join(', ')})` : ' (no camera has a live frame yet: see npx pm2 logs)'}.`);
    console.log(`  open:     http://${target.host}:${port}/   (or http://<this host>:${port}/)`);
    console.log(`  stream:   http://${target.host}:${port}/video_feed   snapshot: http://${target.host}:${port}/snapshot/${cam}`);
    console.log('  status:   npm run status   logs: npx pm2 logs   stop: npm stop');
    return;
  }
  if (Date.now() > deadline) {
    console.error('\ncamfan did not become ready within 45 s: see `npx pm2 logs`');
    process.exit(1);
  }
  setTimeout(poll, 500);
})();
