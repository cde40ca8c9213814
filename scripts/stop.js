#!/usr/bin/env node
// npm stop: deletes every camfan app pm2 runs for this checkout, found in pm2's own list (whatever
// CAMERAS, CAMERAS_FILE or the rest of the environment say now; `pm2 delete ecosystem.config.js` would
// re-read them and miss the cameras started with another list).
'use strict';
const { camfanApps, pm2 } = require('./pm2-apps.js');

const names = [...new Set(camfanApps().map((a) => a.name))];
if (names.length === 0) {
  console.log('camfan: nothing to stop (no camfan app of this checkout in pm2)');
  process.exit(0);
}
let failed = 0;
for (const name of names) {
  const r = pm2(['delete', name]);
  if (r.status !== 0) {
    failed++;
    console.error(`pm2 delete ${name} failed:\n${r.stdout}${r.stderr}`);
  }
}
const left = camfanApps().map((a) => a.name);
if (failed || left.length) {
  console.error(`camfan: still running: ${left.join(', ') || '(none)'}`);
  process.exit(1);
}
console.log(`camfan stopped: ${names.join(', ')}`);
