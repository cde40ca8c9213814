/**
 * A camfan fleet on one machine (bench/fleet/netns.ts gives the hosts): a Redis primary host that also
 * runs the capture, K gateway hosts (each: N gateway processes on one port, and with `replicas` a Redis
 * replica on port 6380 that the gateways are told to subscribe on), an nginx host balancing least_conn
 * over the gateway hosts, and a client host for the load client. Only gateway hosts' links are shaped:
 * they are what the measurement is about.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DIST, sleep, waitFor, type Proc } from '../procs.js';
import { createNetwork, redisAnswers, type Host, type Network } from './netns.js';

export interface FleetOptions {
  gatewayHosts: number;
  gatewaysPerHost: number;
  /** Per gateway host, Mbit/s each way; unshaped when 0. */
  linkMbit: number;
  /** A replica per gateway host, and REDIS_SUBSCRIBE_URL pointing at it. */
  replicas: boolean;
  width: number;
  height: number;
  fps: number;
  quality: number;
}

export interface Fleet {
  net: Network;
  primary: Host;
  gateways: Host[];
  balancer: Host;
  client: Host;
  /** The balancer's address and port, as a viewer reaches it. */
  entry: { host: string; port: number };
  /** Gateway processes by host, for pids and logs (restartGateway() replaces entries). */
  gatewayProcs: Proc[][];
  /**
   * What `pm2 reload` does to one gateway process in fork mode: SIGTERM to the old one (it closes its
   * listener, moves its /ws pages — to the host's other processes on the port, or through the balancer to
   * other hosts — ends its streams and exits), then a new one on the same port once it has gone.
   */
  restartGateway(host: number, index: number): Promise<void>;
  stop(): Promise<void>;
}

// A replica loads its full sync straight into memory: no dump.rdb left in the working directory.
const REDIS_ARGS = ['--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--repl-diskless-load', 'swapdb'];
const GATEWAY_PORT = 8080;

function nginxConf(dir: string, listen: string, upstreams: string[]): string {
  const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    # As deploy/nginx.conf: least_conn over stateless gateways, parts passed on as they arrive, /ws upgraded,
    # a silent host given up on after a 1 s connect.
    map $http_upgrade $camfan_connection {
        default upgrade;
        ''      '';
    }
    upstream camfan_gateways {
        least_conn;
${upstreams.map((u) => `        server ${u} max_fails=3 fail_timeout=10s;`).join('\n')}
        keepalive 64;
    }
    server {
        listen ${listen} default_server;
        location / {
            proxy_pass http://camfan_gateways;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $camfan_connection;
            proxy_set_header Host $host:$server_port;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout http_502 http_503;
            error_page 502 = @camfan_full;
        }
        location @camfan_full {
            add_header Retry-After 2 always;
            return 503 "no gateway has room for another viewer; try again shortly\n";
        }
    }
}
`;
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  return file;
}

async function startGatewayProc(host: Host, env: Record<string, string>): Promise<Proc> {
  const g = host.spawn(process.execPath, [path.join(DIST, 'gateway', 'main.js')], env);
  // Its own log line: with SO_REUSEPORT /healthz may be answered by another process on the port.
  await waitFor(`a gateway on ${host.name}`, async () => {
    if (g.child.exitCode !== null) throw new Error(`gateway on ${host.name} exited: ${g.output()}`);
    return g.output().includes('gateway listening');
  });
  return g;
}

async function startGatewayHost(host: Host, o: FleetOptions, primary: Host, procs: Proc[], envs: Map<Host, Record<string, string>>): Promise<void> {
  const env: Record<string, string> = {
    REDIS_URL: `redis://${primary.addr}:6379`,
    HOST: '0.0.0.0',
    PORT: String(GATEWAY_PORT),
    LOG_LEVEL: 'info',
    // The load clients are a few addresses making thousands of viewers each, not an attacker.
    REQUEST_RATE_PER_IP: '0',
  };
  if (o.replicas) {
    const replica = host.spawn('redis-server', [
      '--replicaof',
      primary.addr,
      '6379',
      '--port',
      '6380',
      ...REDIS_ARGS,
      '--client-output-buffer-limit',
      'replica 256mb 64mb 60',
    ]);
    procs.push(replica);
    await redisAnswers(host, 6380);
    await waitFor(`replica on ${host.name} in sync`, async () =>
      /master_link_status:up/.test(host.exec('redis-cli', ['-p', '6380', 'info', 'replication'], true)),
    );
    env.REDIS_SUBSCRIBE_URL = 'redis://127.0.0.1:6380';
  }
  envs.set(host, env);
  for (let i = 0; i < o.gatewaysPerHost; i++) procs.push(await startGatewayProc(host, env));
  await waitFor(`/healthz on ${host.name}`, async () =>
    /ok/i.test(host.exec('curl', ['-s', '--max-time', '2', `http://127.0.0.1:${GATEWAY_PORT}/healthz`], true)),
  );
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const net = createNetwork();
  const procs: Proc[] = [];
  const gatewayProcs: Proc[][] = [];
  const envs = new Map<Host, Record<string, string>>();
  const stop = async (): Promise<void> => {
    await Promise.all([...procs].reverse().map((p) => p.stop()));
    net.remove();
  };
  try {
    const primary = net.add('primary');
    const gateways = Array.from({ length: o.gatewayHosts }, (_, i) => net.add(`gw${i + 1}`, o.linkMbit));
    const balancer = net.add('nginx');
    const client = net.add('client');
    procs.push(primary.spawn('redis-server', ['--port', '6379', '--bind', '0.0.0.0', ...REDIS_ARGS]));
    await redisAnswers(primary, 6379);
    const capture = primary.spawn(process.execPath, [path.join(DIST, 'capture', 'main.js')], {
      REDIS_URL: 'redis://127.0.0.1:6379',
      CAPTURE_SOURCE: 'test',
      CAPTURE_WIDTH: String(o.width),
      CAPTURE_HEIGHT: String(o.height),
      CAPTURE_FPS: String(o.fps),
      JPEG_QUALITY: String(o.quality),
      LOG_LEVEL: 'warn',
    });
    procs.push(capture);
    await waitFor(
      'a first frame from the capture',
      async () => {
        if (capture.child.exitCode !== null) throw new Error(`capture exited: ${capture.output()}`);
        return primary.exec('redis-cli', ['-p', '6379', 'keys', '*'], true).trim().length > 0;
      },
      30000,
    );
    for (const host of gateways) {
      const mine: Proc[] = [];
      await startGatewayHost(host, o, primary, mine, envs);
      procs.push(...mine);
      gatewayProcs.push(mine.filter((p) => p.child.spawnargs.some((a) => a.endsWith('main.js'))));
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'camfan-fleet-nginx-'));
    const conf = nginxConf(
      dir,
      `${balancer.addr}:80`,
      gateways.map((g) => `${g.addr}:${GATEWAY_PORT}`),
    );
    const nginx = balancer.spawn('nginx', ['-p', dir, '-c', conf]);
    procs.push(nginx);
    await waitFor('nginx', async () => {
      if (nginx.child.exitCode !== null) throw new Error(`nginx exited: ${nginx.output()}`);
      return /ok/i.test(client.exec('curl', ['-s', '--max-time', '2', `http://${balancer.addr}/healthz`], true));
    });
    // Every gateway knows the camera and has a live frame of it (its camera list refreshes once a second):
    // until then a viewer would be refused, not served.
    await waitFor(
      'the camera live through nginx',
      async () =>
        client.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `http://${balancer.addr}/snapshot/cam0`], true).trim() === '200',
    );
    await sleep(200);
    const restartGateway = async (h: number, i: number): Promise<void> => {
      const host = gateways[h]!;
      await gatewayProcs[h]![i]!.stop();
      const fresh = await startGatewayProc(host, envs.get(host)!);
      procs.push(fresh);
      gatewayProcs[h]![i] = fresh;
    };
    return { net, primary, gateways, balancer, client, entry: { host: balancer.addr, port: 80 }, gatewayProcs, restartGateway, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
