/** A dependency-free SVG of delivered fps and latency against the number of viewers. */
import type { FanoutResult } from './fanout.js';

function chart(x0: number, title: string, xs: number[], series: Array<{ name: string; color: string; ys: number[] }>, yMax: number): string {
  const W = 420;
  const H = 260;
  const pad = { l: 50, r: 10, t: 30, b: 40 };
  const xMax = Math.max(...xs, 1);
  const px = (x: number): number => x0 + pad.l + (x / xMax) * (W - pad.l - pad.r);
  const py = (y: number): number => pad.t + (1 - Math.min(y, yMax) / yMax) * (H - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  return [
    `<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`,
    ...ticks.map((t) => `<line x1="${px(0)}" x2="${px(xMax)}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${px(0) - 6}" y="${py(t) + 4}" text-anchor="end">${+t.toFixed(1)}</text>`),
    ...xs.map((x) => `<text x="${px(x)}" y="${H - pad.b + 16}" text-anchor="middle">${x}</text>`),
    `<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle">viewers</text>`,
    ...series.map((s, i) => {
      const pts = xs.map((x, j) => `${px(x).toFixed(1)},${py(s.ys[j]!).toFixed(1)}`).join(' ');
      return `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>${xs.map((x, j) => `<circle cx="${px(x)}" cy="${py(s.ys[j]!)}" r="3" fill="${s.color}"/>`).join('')}<text x="${x0 + pad.l + 8}" y="${pad.t + 14 + i * 14}" fill="${s.color}">${s.name}</text>`;
    }),
  ].join('\n');
}

export function plot(rows: FanoutResult[], targetFps: number): string {
  const xs = rows.map((r) => r.clients);
  const fps = chart(0, 'delivered fps per viewer', xs, [
    { name: 'p50', color: '#1f77b4', ys: rows.map((r) => r.fpsP50) },
    { name: 'min', color: '#ff7f0e', ys: rows.map((r) => r.fpsMin) },
  ], targetFps * 1.1);
  const latMax = Math.max(25, ...rows.map((r) => r.latencyP99)) * 1.1;
  const lat = chart(440, 'end-to-end latency (ms)', xs, [
    { name: 'p50', color: '#1f77b4', ys: rows.map((r) => r.latencyP50) },
    { name: 'p99', color: '#d62728', ys: rows.map((r) => r.latencyP99) },
  ], latMax);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="880" height="260" font-family="sans-serif" font-size="11">\n<rect width="880" height="260" fill="white"/>\n${fps}\n${lat}\n</svg>\n`;
}
