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

const port = process.env.PORT || '8080';
const deadline = Date.now() + 30000;
process.stdout.write(`waiting for a gateway on port ${port} to reach Redis `);
(async function poll() {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    if (res.ok) {
      const cam = process.env.CAMERA_ID || 'cam0';
      console.log(`\n\ncamfan is running. Open http://127.0.0.1:${port}/ (or http://<this host>:${port}/)`);
      console.log(`  stream:   http://127.0.0.1:${port}/video_feed   snapshot: http://127.0.0.1:${port}/snapshot/${cam}`);
      console.log('  logs:     npx pm2 logs      stop: npm stop');
      return;
    }
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) {
    console.error('\ncamfan did not become ready within 30 s: see `npx pm2 logs`');
    process.exit(1);
  }
  process.stdout.write('.');
  setTimeout(poll, 500);
})();
