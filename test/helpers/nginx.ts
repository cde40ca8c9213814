/**
 * deploy/nginx.conf installed into a temporary prefix the way its header says, on Debian's stock nginx
 * layout (the package's own nginx.conf and default site copied there; only ports, paths under /etc, /run
 * and /var/log, and the upstream list are rewritten), and a self-signed certificate for its HTTPS lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../harness/procs.js';

/** A self-signed certificate for localhost and 127.0.0.1: dir/cert.pem and dir/key.pem. */
export function makeCert(dir: string): void {
  const cert = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  assert.equal(cert.status, 0, String(cert.stderr));
}

const ETC = '/etc/nginx';

/** Debian's nginx layout in `dir`, with paths and ports moved there; returns the conf.d/ and sites-enabled/ dirs. */
export function installStockNginx(dir: string, listen: number): void {
  for (const f of ['nginx.conf', 'mime.types']) cpSync(path.join(ETC, f), path.join(dir, f));
  for (const d of ['modules-enabled', 'conf.d', 'sites-enabled', 'log']) mkdirSync(path.join(dir, d), { recursive: true });
  cpSync(path.join(ETC, 'modules-enabled'), path.join(dir, 'modules-enabled'), { recursive: true, dereference: true });
  const main = readFileSync(path.join(dir, 'nginx.conf'), 'utf8');
  writeFileSync(path.join(dir, 'nginx.conf'), relocate(main, dir));
  const site = readFileSync(path.join(ETC, 'sites-available', 'default'), 'utf8');
  writeFileSync(path.join(dir, 'sites-enabled', 'default'), relocate(site, dir, listen));
}

/** Paths under /etc/nginx, /run and /var/log into `dir`; port 80 (IPv4 only: the test has loopback only) to `listen`. */
export function relocate(conf: string, dir: string, listen?: number, tlsListen?: number): string {
  let out = conf
    .replaceAll('/etc/nginx/', `${dir}/`)
    .replace(/\/run\/nginx\.pid/, `${dir}/nginx.pid`)
    .replaceAll('/var/log/nginx/', `${dir}/log/`);
  if (listen !== undefined) {
    out = out
      .replace(/^(\s*)listen 80 default_server;/m, `$1listen 127.0.0.1:${listen} default_server;`)
      .replace(/^\s*listen \[::\]:80 default_server;\n/m, '');
  }
  if (tlsListen !== undefined) {
    // The shipped line may say `ssl http2` (HTTP/2 to browsers): kept as it is.
    out = out.replace(/^(\s*)# listen 443 ssl( http2)? default_server;/m, `$1listen 127.0.0.1:${tlsListen} ssl$2 default_server;`);
    out = out.replace(/^\s*# listen \[::\]:443 ssl( http2)? default_server;\n/m, '');
    out = out
      .replace(/# ssl_certificate +\S+;/, `ssl_certificate ${dir}/cert.pem;`)
      .replace(/# ssl_certificate_key +\S+;/, `ssl_certificate_key ${dir}/key.pem;`);
  }
  return out;
}

/** deploy/nginx.conf as conf.d/camfan.conf, its upstream list replaced by this test's gateways. */
export function installCamfan(dir: string, listen: number, tlsListen: number, upstreams: string[]): void {
  const example = readFileSync(path.join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  const servers = example.match(/^\s*server \d+\.\d+\.\d+\.\d+:\d+ (.*);$/m);
  assert.ok(servers, 'the example lists its gateways as server lines');
  let conf = example.replace(/^\s*server \d+\.\d+\.\d+\.\d+:\d+ .*;\n/gm, '');
  conf = conf.replace(/(upstream camfan_gateways \{[^}]*?least_conn;\n)/, `$1${upstreams.map((u) => `    server ${u} ${servers[1]};`).join('\n')}\n`);
  conf = relocate(conf, dir, listen, tlsListen);
  assert.match(conf, /ssl_certificate_key .*key\.pem;/);
  assert.ok(conf.includes(`server ${upstreams.at(-1)!} ${servers[1]};`), 'the upstream list replaced, with its settings');
  writeFileSync(path.join(dir, 'conf.d', 'camfan.conf'), conf);
}
