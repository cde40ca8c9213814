/**
 * A Redis Cluster for tests, for real: redis-server processes on free ports (each with its cluster bus port
 * free too), joined by `redis-cli --cluster create`, optionally with a replica per master and a short
 * cluster-node-timeout so that a killed master's replica is promoted within a few seconds.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, requireTool, run, waitFor, type Proc } from './procs.js';

export interface ClusterHandle {
  nodes: Array<{ host: string; port: number }>;
  /** REDIS_CLUSTER_NODES for the processes under test. */
  spec: string;
  /** SIGKILL to the node on this port (a master lost without a word). */
  kill(port: number): void;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Replicas per master (0: none). */
  replicas?: number;
  /** cluster-node-timeout (ms): how long a silent master has before its replica takes over. */
  nodeTimeoutMs?: number;
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + 10000 > 65535) continue;
    const srv = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(p + 10000, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      srv.close();
      await once(srv, 'close');
      return p;
    }
  }
}

/** Starts a Redis Cluster of `masters` masters (and o.replicas replicas each) and waits for cluster_state:ok. */
export async function startRedisCluster(masters = 3, o: ClusterOptions = {}): Promise<ClusterHandle> {
  requireTool('redis-server', 'sudo apt-get install -y redis-server');
  const replicas = o.replicas ?? 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'camfan-cluster-'));
  const ports: number[] = [];
  const procs: Proc[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freeClusterPort();
    ports.push(port);
    procs.push(
      run('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(dir, `nodes-${port}.conf`),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...(o.nodeTimeoutMs ? ['--cluster-node-timeout', String(o.nodeTimeoutMs)] : []),
      ]),
    );
  }
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  try {
    for (const port of ports)
      await waitFor(
        `cluster node ${port}`,
        () =>
          spawnSync('redis-cli', ['-p', String(port), 'ping'])
            .stdout?.toString()
            .trim() === 'PONG',
      );
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        encoding: 'utf8',
      },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const port of ports) {
      await waitFor(
        `cluster_state:ok on ${port}`,
        () => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout),
        15000,
        100,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  const kill = (port: number): void => void procs[ports.indexOf(port)]?.child.kill('SIGKILL');
  return { nodes, spec: ports.map((p) => `127.0.0.1:${p}`).join(','), kill, stop };
}
