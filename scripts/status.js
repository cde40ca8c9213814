#!/usr/bin/env node
// npm run status: pm2 apps, Redis, cameras, and viewers and delivered fps per gateway process, at a glance.
// Port, address, Redis and credentials come from pm2's record of the gateway app (scripts/pm2-apps.js),
// so it works from any shell, whatever PORT or REDIS_URL say there.
'use strict';
const { askGateway: get, camfanApps, gatewayTarget, redactUrl } = require('./pm2-apps.js');

async function redisLine(target) {
  if (target.clusterNodes) return `cluster ${target.clusterNodes}`;
  if (!target.redisUrl) return 'unknown';
  let Redis;
  try {
    ({ Redis } = require('ioredis'));
  } catch {
    return redactUrl(target.redisUrl);
  }
  const r = new Redis(target.redisUrl, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000, commandTimeout: 2000 });
  r.on('error', () => undefined);
  const started = Date.now();
  try {
    await r.connect();
    const pong = await r.ping();
    return `${redactUrl(target.redisUrl)}  ${pong} in ${Date.now() - started} ms`;
  } catch (err) {
    return `${redactUrl(target.redisUrl)}  NOT ANSWERING (${err.message})`;
  } finally {
    r.disconnect();
  }
}

function printApps(apps) {
  console.log('apps');
  if (apps.length === 0) console.log('  none running (npm start)');
  for (const a of apps) {
    const m = a.monit || {};
    console.log(
      `  ${a.name.padEnd(26)} pid ${String(a.pid).padEnd(8)} ${a.pm2_env.status.padEnd(9)} restarts ${String(a.pm2_env.restart_time).padEnd(4)} cpu ${String(m.cpu ?? 0).padStart(3)}%  mem ${((m.memory ?? 0) / 2 ** 20).toFixed(0)} MB`,
    );
  }
}

function printViewers(seen) {
  console.log('\nviewers per gateway process');
  for (const [pid, s] of seen) {
    const perCam = new Map();
    for (const v of s.viewers) {
      const e = perCam.get(v.camera) || { n: 0, fps: 0, dropped: 0 };
      e.n++;
      e.fps += v.fps ?? 0;
      e.dropped += v.dropped;
      perCam.set(v.camera, e);
    }
    const text = [...perCam].map(([cam, e]) => `${cam}: ${e.n} (${(e.fps / e.n).toFixed(1)} fps avg, ${e.dropped} dropped)`).join(', ') || 'none';
    console.log(`  pid ${String(pid).padEnd(8)} ${text}`);
  }
}

(async () => {
  const apps = camfanApps();
  printApps(apps);
  const gateways = apps.filter((a) => a.name === 'camfan-gateway');
  if (gateways.length === 0) return;
  const target = gatewayTarget(gateways[0]);
  console.log(`\nredis     ${await redisLine(target)}`);
  const where = `http://${target.host}:${target.port}/`;
  const cams = await get(target, '/api/cameras', target.viewer);
  console.log(`\ncameras (${where})`);
  if (!cams.body) console.log(`  no answer from the gateways on ${where}: ${cams.status ? `HTTP ${cams.status} ${cams.text}` : cams.text}`);
  for (const c of cams.body?.cameras ?? []) {
    console.log(
      `  ${c.camera.padEnd(16)} ${c.live ? 'live   ' : 'OFFLINE'} ${c.idle ? 'idle ' : '     '} ${String(c.width)}x${c.height} ${String(c.fps).padStart(3)}/${c.targetFps} fps  ${(c.lastFrameBytes / 1024).toFixed(0)} KB  ${c.source}`,
    );
  }
  const wanted = new Set(gateways.map((a) => a.pid));
  const seen = new Map();
  let refused = null;
  for (let i = 0; i < 60 && seen.size < wanted.size; i++) {
    const s = await get(target, '/api/stats', target.operator);
    if (s.body?.viewers) seen.set(s.body.pid, s.body);
    else if (s.status) refused = s;
    if (refused && seen.size === 0) break;
  }
  if (refused && seen.size === 0) console.log(`\nviewers: /api/stats answered HTTP ${refused.status} (${refused.text})`);
  else printViewers(seen);
})();
