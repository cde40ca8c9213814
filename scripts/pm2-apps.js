/**
 * The camfan apps pm2 runs for this checkout, from pm2's own record (`pm2 jlist`), not from the current
 * environment: `npm stop` and `npm run status` must find what `npm start` started even when CAMERAS, PORT
 * or REDIS_URL are no longer set (or set differently) in the shell that runs them.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pm2Bin = path.join(root, 'node_modules', '.bin', 'pm2');

function pm2(args, options = {}) {
  return spawnSync(pm2Bin, args, { encoding: 'utf8', cwd: root, ...options });
}

/** camfan-* apps whose working directory is this checkout (ecosystem.config.js sets cwd to it). */
function camfanApps() {
  const r = pm2(['jlist']);
  if (r.status !== 0) return [];
  let list;
  try {
    list = JSON.parse(r.stdout);
  } catch {
    return [];
  }
  return list.filter((a) => a.name.startsWith('camfan-') && a.pm2_env && path.resolve(a.pm2_env.pm_cwd || '') === root);
}

/** A Redis URL without its password, for printing. */
function redactUrl(raw) {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/**
 * Where a gateway listens and what it needs to be asked, from the environment pm2 recorded for it:
 * address and port, Redis, the credentials for the API (viewer) and for /api/stats (operator), and a
 * Host header that ALLOWED_HOSTS accepts.
 */
function gatewayTarget(app) {
  const env = app.pm2_env;
  const listen = env.HOST || '0.0.0.0';
  const host = listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen;
  const viewer = env.AUTH_TOKEN ? `Bearer ${env.AUTH_TOKEN}` : env.AUTH_BASIC ? `Basic ${Buffer.from(env.AUTH_BASIC).toString('base64')}` : '';
  const operator = env.OPERATOR_TOKEN ? `Bearer ${env.OPERATOR_TOKEN}` : viewer;
  const allowed = (env.ALLOWED_HOSTS || '')
    .split(',')
    .map((h) => h.trim().replace(/^\./, ''))
    .filter((h) => h && h !== '*');
  return {
    host,
    port: Number(env.PORT || 8080),
    redisUrl: env.REDIS_URL || '',
    clusterNodes: env.REDIS_CLUSTER_NODES || '',
    viewer,
    operator,
    hostHeader: allowed[0] || '',
  };
}

/** GET on a fresh connection, so that SO_REUSEPORT may hand it to any gateway process. */
function askGateway(target, p, authorization) {
  const headers = { ...(authorization ? { authorization } : {}), ...(target.hostHeader ? { host: target.hostHeader } : {}) };
  return new Promise((resolve) => {
    const req = http.get({ host: target.host, port: target.port, path: p, agent: false, timeout: 2000, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(body) });
        } catch {
          resolve({ status: res.statusCode, body: null, text: body.trim() });
        }
      });
    });
    req.on('error', (err) => resolve({ status: 0, body: null, text: err.message }));
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
  });
}

module.exports = { root, pm2, camfanApps, gatewayTarget, askGateway, redactUrl };
