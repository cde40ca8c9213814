/**
 * Hosts on one machine: each host is a network namespace (named with a prefix, `cf-` by default) with one veth
 * link to a bridge in a "switch" namespace; addresses 10.77.0.0/24 exist only inside those namespaces,
 * so nothing on the machine's own network changes. A host's link can be shaped with tbf in both
 * directions (its own end for what it sends, the switch's end for what it receives), so that a link,
 * not the machine's CPU, is what limits a measurement. Removing a host is deleting its namespace:
 * its veth pair goes with it; the bridge goes with the switch namespace. Networks with different
 * prefixes (the bench's fleet, a test's own) are apart: each removes only its own namespaces.
 */
import { spawnSync } from 'node:child_process';
import { requireTool, run, waitFor, type Proc } from '../procs.js';

export const PREFIX = 'cf-';
const SUBNET = '10.77.0';

function ip(args: string[], allowFail = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A command run inside a namespace, to completion. */
export function nsExec(ns: string, cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} in ${ns} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

export function ourNamespaces(prefix = PREFIX): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
}

/** Kills what still runs in a namespace (by pid, from `ip netns pids`), then deletes it. */
function removeNamespace(ns: string): void {
  for (const pid of ip(['netns', 'pids', ns], true).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  ip(['netns', 'del', ns], true);
}

/** Removes every namespace with the prefix: leftovers of a crashed run at start, and this run's at the end. */
export function removeAll(prefix = PREFIX): void {
  for (const ns of ourNamespaces(prefix)) removeNamespace(ns);
}

export interface Host {
  name: string;
  ns: string;
  addr: string;
  /** Starts a long-running process inside the host. */
  spawn(cmd: string, args: string[], env?: Record<string, string>): Proc;
  exec(cmd: string, args: string[], allowFail?: boolean): string;
  /** Bytes this host's link has sent and received so far (its veth end's counters). */
  counters(): { tx: number; rx: number };
  /** Takes the host off the network (its link down), as a host that dies would be. */
  unplug(): void;
}

export interface Network {
  hosts: Host[];
  add(name: string, rateMbit?: number): Host;
  remove(): void;
}

function shape(ns: string, dev: string, rateMbit: number): void {
  nsExec(ns, 'tc', ['qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '32kbit', 'latency', '400ms']);
}

/** The switch; hosts join it with add(). Leftovers of an earlier run with the same prefix are removed first. */
export function createNetwork(prefix = PREFIX): Network {
  const switchNs = `${prefix}switch`;
  if (process.getuid?.() !== 0) throw new Error('the fleet needs root (ip netns, veth, tc)');
  requireTool('ip', 'sudo apt-get install -y iproute2');
  requireTool('tc', 'sudo apt-get install -y iproute2');
  removeAll(prefix);
  ip(['netns', 'add', switchNs]);
  nsExec(switchNs, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
  nsExec(switchNs, 'ip', ['link', 'set', 'br0', 'up']);
  const hosts: Host[] = [];
  return {
    hosts,
    add(name: string, rateMbit?: number): Host {
      const index = hosts.length + 1;
      const ns = `${prefix}${name}`;
      const addr = `${SUBNET}.${index}`;
      const port = `p${index}`;
      ip(['netns', 'add', ns]);
      ip(['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', switchNs]);
      nsExec(switchNs, 'ip', ['link', 'set', port, 'master', 'br0', 'up']);
      nsExec(ns, 'ip', ['link', 'set', 'lo', 'up']);
      nsExec(ns, 'ip', ['addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      nsExec(ns, 'ip', ['link', 'set', 'eth0', 'up']);
      if (rateMbit) {
        shape(ns, 'eth0', rateMbit);
        shape(switchNs, port, rateMbit);
      }
      const host: Host = {
        name,
        ns,
        addr,
        spawn: (cmd, args, env = {}) => run('ip', ['netns', 'exec', ns, cmd, ...args], env),
        exec: (cmd, args, allowFail) => nsExec(ns, cmd, args, allowFail),
        counters: () => {
          const read = (f: string): number => Number(nsExec(ns, 'cat', [`/sys/class/net/eth0/statistics/${f}`]).trim());
          return { tx: read('tx_bytes'), rx: read('rx_bytes') };
        },
        unplug: () => nsExec(switchNs, 'ip', ['link', 'set', port, 'down']),
      };
      hosts.push(host);
      return host;
    },
    remove: () => removeAll(prefix),
  };
}

/** A redis-server on a host's own loopback (nothing kept on disk), once it answers PING; its URL there. */
export async function startHostRedis(host: Host, procs: Proc[], port = 6379): Promise<string> {
  procs.push(host.spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']));
  await redisAnswers(host, port);
  return `redis://127.0.0.1:${port}`;
}

/** Waits until the redis-server on this host's port answers PING. */
export async function redisAnswers(host: Host, port: number): Promise<void> {
  await waitFor(`redis on ${host.name}:${port}`, async () => host.exec('redis-cli', ['-p', String(port), 'ping'], true).trim() === 'PONG');
}
