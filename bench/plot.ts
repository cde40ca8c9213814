/**
 * A dependency-free SVG of delivered fps and latency against the number of viewers, one colour per
 * server (camfan, camfan ×2, C baseline); p50 solid, min/p99 dashed. Latency can use a log scale, for
 * the overload sweep where it spans milliseconds to seconds.
 */
import type { FanoutResult } from './fanout.js';
import { median } from '../harness/stats.js';

interface Series {
  name: string;
  color: string;
  dashed: boolean;
  points: Array<[number, number]>;
}

interface Scale {
  max: number;
  /** Log scale from this minimum when set. */
  logMin?: number;
}

const W = 420;
const H = 280;
const LEGEND_ROW = 14;
const PAD = { l: 55, r: 10, t: 30, b: 40 };
const COLORS = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#8c564b'];

function yPos(y: number, s: Scale): number {
  const span = H - PAD.t - PAD.b;
  if (s.logMin === undefined) return PAD.t + (1 - Math.min(Math.max(y, 0), s.max) / s.max) * span;
  const f = (Math.log10(Math.min(Math.max(y, s.logMin), s.max)) - Math.log10(s.logMin)) / (Math.log10(s.max) - Math.log10(s.logMin));
  return PAD.t + (1 - f) * span;
}

function ticks(s: Scale): number[] {
  if (s.logMin === undefined) return [0, 0.25, 0.5, 0.75, 1].map((f) => f * s.max);
  const out: number[] = [];
  for (let t = 10 ** Math.ceil(Math.log10(s.logMin)); t <= s.max; t *= 10) out.push(t);
  return out;
}

function chart(x0: number, title: string, xs: number[], series: Series[], scale: Scale): string {
  const xMax = Math.max(...xs, 1);
  const px = (x: number): number => x0 + PAD.l + (x / xMax) * (W - PAD.l - PAD.r);
  const py = (y: number): number => yPos(y, scale);
  return [
    `<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`,
    ...ticks(scale).map(
      (t) =>
        `<line x1="${px(0)}" x2="${px(xMax)}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${px(0) - 6}" y="${py(t) + 4}" text-anchor="end">${+t.toFixed(1)}</text>`,
    ),
    ...xs.map((x) => `<text x="${px(x)}" y="${H - PAD.b + 16}" text-anchor="middle">${x}</text>`),
    `<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle">viewers</text>`,
    ...series.map((s, i) => {
      const finite = s.points.filter(([, y]) => Number.isFinite(y));
      const pts = finite.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      const dash = s.dashed ? ' stroke-dasharray="5,3"' : '';
      const dots = finite.map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`).join('');
      // Legend below the chart, two columns: a short line in the series' style, then its name.
      const lx = x0 + PAD.l + (i % 2) * 180;
      const ly = H + 8 + Math.floor(i / 2) * LEGEND_ROW;
      const key = `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/><text x="${lx + 28}" y="${ly}" fill="${s.color}">${s.name}</text>`;
      return `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>${dots}${key}`;
    }),
  ].join('\n');
}

type Plotted = Pick<FanoutResult, 'clients' | 'fpsP50' | 'fpsMin' | 'latencyP50' | 'latencyP99'>;

/** Per server, one point per viewer count: the median over --repeat passes of each plotted figure. */
function byServer(rows: FanoutResult[]): Array<[string, Plotted[]]> {
  const groups = new Map<string, Map<number, FanoutResult[]>>();
  for (const r of rows) {
    const g = groups.get(r.target) ?? new Map<number, FanoutResult[]>();
    g.set(r.clients, [...(g.get(r.clients) ?? []), r]);
    groups.set(r.target, g);
  }
  const med = (rs: FanoutResult[], f: (r: FanoutResult) => number): number => median(rs.map(f));
  return [...groups].map(([name, g]) => [
    name,
    [...g]
      .sort(([a], [b]) => a - b)
      .map(([clients, rs]) => ({
        clients,
        fpsP50: med(rs, (r) => r.fpsP50),
        fpsMin: med(rs, (r) => r.fpsMin),
        latencyP50: med(rs, (r) => r.latencyP50),
        latencyP99: med(rs, (r) => r.latencyP99),
      })),
  ]);
}

export function plot(rows: FanoutResult[], targetFps: number, logLatency = false): string {
  const xs = [...new Set(rows.map((r) => r.clients))].sort((a, b) => a - b);
  const servers = byServer(rows);
  const line = (name: string, color: string, dashed: boolean, rs: Plotted[], y: (r: Plotted) => number): Series => ({
    name,
    color,
    dashed,
    points: rs.map((r) => [r.clients, y(r)]),
  });
  const fpsSeries = servers.flatMap(([name, rs], i) => [
    line(`${name} p50`, COLORS[i % COLORS.length]!, false, rs, (r) => r.fpsP50),
    line(`${name} min`, COLORS[i % COLORS.length]!, true, rs, (r) => r.fpsMin),
  ]);
  const latSeries = servers.flatMap(([name, rs], i) => [
    line(`${name} p50`, COLORS[i % COLORS.length]!, false, rs, (r) => r.latencyP50),
    line(`${name} p99`, COLORS[i % COLORS.length]!, true, rs, (r) => r.latencyP99),
  ]);
  const latMax = Math.max(25, ...rows.map((r) => r.latencyP99).filter(Number.isFinite)) * 1.1;
  const latMin = Math.max(1, Math.min(...rows.map((r) => r.latencyP50).filter(Number.isFinite)));
  const latScale: Scale = logLatency ? { max: 10 ** Math.ceil(Math.log10(latMax)), logMin: 10 ** Math.floor(Math.log10(latMin)) } : { max: latMax };
  const fps = chart(0, 'delivered fps per viewer', xs, fpsSeries, { max: targetFps * 1.1 });
  const lat = chart(440, `end-to-end latency (ms${logLatency ? ', log scale' : ''})`, xs, latSeries, latScale);
  const height = H + 10 + Math.ceil(Math.max(fpsSeries.length, latSeries.length) / 2) * LEGEND_ROW;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="880" height="${height}" font-family="sans-serif" font-size="11">\n<rect width="880" height="${height}" fill="white"/>\n${fps}\n${lat}\n</svg>\n`;
}
