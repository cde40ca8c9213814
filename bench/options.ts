/**
 * npm run bench's options, each declared once with its default and doc (--help prints them). Defaults that
 * depend on the mode (the overload sweep has its own viewer counts, picture and quality) are resolved by
 * resolveOptions().
 */
import { parseArgs } from 'node:util';

interface Option {
  type: 'string' | 'boolean';
  default?: string | boolean;
  doc: string;
}

const OPTIONS = {
  clients: { type: 'string', doc: 'viewer counts to measure (default 1,50,200,500; overload: 200,800,1600,3000)' },
  seconds: { type: 'string', default: '10', doc: 'measured window per trial, seconds' },
  warmup: { type: 'string', default: '3', doc: 'seconds between the last viewer connecting and the window' },
  width: { type: 'string', default: '1280', doc: 'capture width' },
  height: { type: 'string', default: '720', doc: 'capture height' },
  fps: { type: 'string', default: '30', doc: 'capture frame rate' },
  quality: { type: 'string', doc: 'JPEG_QUALITY of the capture (default 80; overload: 95)' },
  source: { type: 'string', doc: 'test (the test pattern) or clip (a testsrc2 clip made with ffmpeg, looped); default test, overload: clip' },
  gateways: { type: 'string', default: '1', doc: 'gateway processes on one port (SO_REUSEPORT); a list measures each in turn (overload: 1,2)' },
  slow: { type: 'string', default: '0', doc: 'fraction of viewers that read slowly' },
  'slow-rate': { type: 'string', default: '300000', doc: 'bytes a second a slow viewer reads at most' },
  repeat: { type: 'string', default: '1', doc: 'run the whole sweep this many times, interleaved (ratios then show their median)' },
  probes: { type: 'string', default: '20', doc: 'first-frame probes per trial, spread over the window' },
  baseline: { type: 'boolean', default: false, doc: 'also measure the C epoll+writev baseline server (bench/c/baseline-server.c)' },
  'no-baseline': { type: 'boolean', default: false, doc: 'overload: leave the C baseline out (to re-measure camfan alone)' },
  'node-client': { type: 'boolean', default: false, doc: 'use the Node load client instead of the C one (to cross-check; ~1 core at 800 viewers)' },
  overload: { type: 'boolean', default: false, doc: 'the overload sweep: camfan with each --gateways count and the C baseline, in turn' },
  'ws-slow': {
    type: 'boolean',
    default: false,
    doc: 'one /ws viewer reading at --slow-rate: plain, with acks, with acks and adaptation (default 720p30 test pattern, quality 90, 15 s windows)',
  },
  fleet: {
    type: 'boolean',
    default: false,
    doc: 'a fleet on network namespaces (root; bench/fleet/): --hosts gateway hosts behind nginx, links shaped to --link-mbit; default 320x240 at 10 fps',
  },
  hosts: { type: 'string', default: '1,2,4', doc: 'fleet: gateway host counts to measure' },
  'link-mbit': { type: 'string', default: '20', doc: "fleet: each gateway host's link, Mbit/s each way (tbf)" },
  'fleet-parts': { type: 'string', default: 'scaling,primary,loss,rolling', doc: 'fleet: which measurements to run' },
  'per-host': { type: 'string', default: '80', doc: 'fleet: viewers per gateway host (well past what its link carries at full rate)' },
  'healthz-timeout': { type: 'string', default: '5000', doc: 'overload: a /healthz probe not answered within this many ms counts as failed' },
  'notsent-lowat': { type: 'string', doc: 'set net.ipv4.tcp_notsent_lowat for the run, restored afterwards (needs root)' },
  section: { type: 'string', doc: 'section of BENCHMARKS.md and name of bench/results/<section>.json (default main, overload, soak-churn)' },
  write: { type: 'boolean', default: false, doc: 'rewrite the section in BENCHMARKS.md (without it only bench/results/ is written)' },
  'no-write': { type: 'boolean', default: false, doc: 'accepted for old command lines; not writing BENCHMARKS.md is the default' },
  'no-encode': { type: 'boolean', default: false, doc: 'skip the JPEG encode timings' },
  soak: { type: 'string', doc: 'instead of the sweep: a soak of this many seconds with the first --clients count' },
  churn: { type: 'string', default: '2', doc: 'soak: viewers replaced every second' },
  sample: { type: 'string', default: '30', doc: 'soak: seconds between samples' },
  help: { type: 'boolean', default: false, doc: 'print this list' },
} satisfies Record<string, Option>;

export type Mode = 'sweep' | 'overload' | 'soak' | 'ws-slow' | 'fleet';

export interface BenchOptions {
  mode: Mode;
  clients: number[];
  seconds: number;
  warmup: number;
  width: number;
  height: number;
  fps: number;
  quality: number;
  source: 'test' | 'clip';
  gateways: number[];
  slow: number;
  slowRate: number;
  repeat: number;
  probes: number;
  baseline: boolean;
  nodeClient: boolean;
  healthzTimeoutMs: number;
  notsentLowat: string | null;
  section: string;
  write: boolean;
  encode: boolean;
  soakSeconds: number;
  churn: number;
  sampleSeconds: number;
  fleetHosts: number[];
  linkMbit: number;
  perHost: number;
  fleetParts: string[];
}

export function usage(): string {
  return Object.entries(OPTIONS as Record<string, Option>)
    .map(
      ([k, o]) =>
        `  --${k}${o.type === 'string' ? ' X' : ''}`.padEnd(24) + o.doc + (o.default !== undefined && o.type === 'string' ? ` (default ${o.default})` : ''),
    )
    .join('\n');
}

function numbers(flag: string, raw: string, min: number): number[] {
  const xs = raw.split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x) || x < min)) throw new Error(`--${flag} ${raw}: expected numbers >= ${min}, comma-separated`);
  return xs;
}

const one = (flag: string, raw: string, min: number): number => numbers(flag, raw, min)[0]!;

/** Parses argv; throws with the flag's name on bad input. Returns null for --help. */
export function resolveOptions(argv: string[]): BenchOptions | null {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (v.help) return null;
  const mode: Mode = v.fleet ? 'fleet' : v.soak ? 'soak' : v.overload ? 'overload' : v['ws-slow'] ? 'ws-slow' : 'sweep';
  // The fleet's picture is small, so that shaped links (not this machine's CPU) are what runs out.
  const fleetDefault = (flag: string, value: string, fleetValue: string): string => (mode === 'fleet' && !argv.includes(`--${flag}`) ? fleetValue : value);
  const section = v.section ?? (mode === 'soak' ? 'soak-churn' : mode === 'sweep' ? 'main' : mode);
  if (!/^[a-z0-9-]+$/.test(section)) throw new Error(`--section ${section}: expected lowercase letters, digits and dashes`);
  const source = v.source ?? (mode === 'overload' ? 'clip' : 'test');
  if (source !== 'test' && source !== 'clip') throw new Error(`--source ${source}: expected test or clip`);
  return {
    mode,
    clients: numbers('clients', v.clients ?? (mode === 'overload' ? '200,800,1600,3000' : '1,50,200,500'), 1),
    seconds: one('seconds', mode === 'ws-slow' && !argv.includes('--seconds') ? '15' : v.seconds, 1),
    warmup: one('warmup', v.warmup, 0),
    width: one('width', fleetDefault('width', v.width, '320'), 16),
    height: one('height', fleetDefault('height', v.height, '240'), 16),
    fps: one('fps', fleetDefault('fps', v.fps, '10'), 1),
    quality: one('quality', v.quality ?? (mode === 'overload' ? '95' : mode === 'ws-slow' ? '90' : '80'), 1),
    source,
    gateways: numbers(
      'gateways',
      mode === 'overload' && !argv.some((a) => a.startsWith('--gateways')) ? '1,2' : fleetDefault('gateways', v.gateways, '1,2,4'),
      1,
    ),
    slow: one('slow', v.slow, 0),
    slowRate: one('slow-rate', v['slow-rate'], 1),
    repeat: one('repeat', v.repeat, 1),
    probes: one('probes', v.probes, 0),
    baseline: (v.baseline || mode === 'overload') && !v['no-baseline'],
    nodeClient: v['node-client'],
    healthzTimeoutMs: one('healthz-timeout', v['healthz-timeout'], 1),
    notsentLowat: v['notsent-lowat'] ?? null,
    section,
    write: v.write && !v['no-write'],
    encode: !v['no-encode'] && mode === 'sweep',
    soakSeconds: v.soak ? one('soak', v.soak, 1) : 0,
    churn: one('churn', v.churn, 0),
    sampleSeconds: one('sample', v.sample, 1),
    fleetHosts: numbers('hosts', v.hosts, 1),
    linkMbit: one('link-mbit', v['link-mbit'], 1),
    perHost: one('per-host', v['per-host'], 1),
    fleetParts: v['fleet-parts'].split(','),
  };
}
