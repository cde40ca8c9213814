/**
 * The bench's C programs (bench/c), built on first use with gcc -O2 -Wall into dist/bench/c (which git
 * ignores) and rebuilt whenever a source or header is newer than the binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT, requireTool } from './procs.js';

const SOURCE_DIR = path.join(ROOT, 'bench', 'c');
const OUT_DIR = path.join(ROOT, 'dist', 'bench', 'c');

const PROGRAMS = {
  'load-client': ['load-client.c', 'client-net.c', 'client-report.c', 'part-reader.c'],
  'baseline-server': ['baseline-server.c', 'redis-sub.c'],
} as const;

export type CProgram = keyof typeof PROGRAMS;

function newestSource(): number {
  return Math.max(...readdirSync(SOURCE_DIR).map((f) => statSync(path.join(SOURCE_DIR, f)).mtimeMs));
}

/** Path of the built program; builds it first when missing or stale. */
export function cProgram(name: CProgram): string {
  const out = path.join(OUT_DIR, name);
  if (existsSync(out) && statSync(out).mtimeMs >= newestSource()) return out;
  requireTool('gcc', 'sudo apt-get install -y gcc');
  mkdirSync(OUT_DIR, { recursive: true });
  const sources = PROGRAMS[name].map((f) => path.join(SOURCE_DIR, f));
  const r = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-std=gnu11', '-o', out, ...sources, '-lm'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${name} failed (gcc ${r.status}):\n${r.stderr}`);
  if (r.stderr.trim()) console.warn(`gcc warnings for ${name}:\n${r.stderr}`);
  return out;
}
