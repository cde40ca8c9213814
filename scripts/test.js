#!/usr/bin/env node
// npm test's runner (after lint, build and the settings check): the unit tests in one `node --test`, then
// every integration and browser file as its own `node --test` process, several at once. Those files
// spend most of their time waiting on real processes and clocks, and each starts its own Redis, captures,
// gateways, nginx, pm2 home and browsers on free ports and temporary directories, so they do not share
// anything but the CPU. Files whose assertions are rates or latencies under load run afterwards, one at a
// time with nothing else running, so the other files cannot starve them. `--long` runs the long files
// instead (the soak; npm run test:long). TEST_JOBS sets how many files run at once (default 4).
'use strict';
const { spawn } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const TESTS = path.join(__dirname, '..', 'dist', 'test');

/** Minutes-long runs: not part of npm test, run by npm run test:long (and .ci/run). */
const LONG = ['integration/soak.test.js'];
/** The longest files (measured), started first so the short ones fill the gaps at the end. */
const LONGEST_FIRST = [
  'browser/img-view.test.js',
  'browser/states.test.js',
  'integration/bus-trust.test.js',
  'integration/ws-acks.test.js',
  'integration/capture-faults.test.js',
  'browser/framing.test.js',
  'browser/wall.test.js',
  'browser/page.test.js',
  'integration/passthrough.test.js',
  'integration/pm2-scripts.test.js',
  'integration/cameras-lease.test.js',
  'integration/cluster.test.js',
];
/** Two browsers at once at most: each drives Chromium or Firefox painting a wall of cameras. */
const BROWSER_JOBS = 2;
/**
 * Rates, latencies, gaps and overload thresholds (capture fps, rendition frame counts, the largest gap while
 * pm2 restarts a gateway, frames dropped while Redis is away, failover and move gaps): run after the
 * others, when only these run. ALONE files load the machine themselves (overload by design, the fan-out
 * rates, 16 captures behind HTTP/2: beside the browser files it slowed them by more than it took) and run
 * one at a time; PAIRED files are light (a few small cameras) and run PAIRED_JOBS at a time;
 * browser/demand (a 16-camera wall whose bytes with renditions must be under half of those without) runs
 * there too, beside light files only. Demand, faults, pipeline, pm2,
 * renditions and redis failed when run alongside the browser files on a loaded 2-core machine.
 */
/** Light as they are, three of them at once still leave each the CPU its timings need (a full run on 2 cores: 0 failures). */
const PAIRED_JOBS = 3;
const ALONE = ['integration/overload.test.js', 'integration/fanout.test.js', 'browser/h2-img-wall.test.js'];
const PAIRED = [
  'browser/demand.test.js',
  'integration/renditions.test.js',
  'integration/subscribe-tree.test.js',
  'integration/redis.test.js',
  'integration/pipeline.test.js',
  'integration/websocket.test.js',
  'integration/fleet.test.js',
  'integration/link-saturation.test.js',
  'integration/pm2.test.js',
  'integration/ws-move.test.js',
  'integration/faults.test.js',
  'integration/cameras-runtime.test.js',
  'integration/evil-camera.test.js',
  'integration/admission-floods.test.js',
];

function files(dir) {
  return readdirSync(path.join(TESTS, dir))
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => `${dir}/${f}`)
    .sort();
}

/** Runs `node --test` on the given paths; prints its output in one piece when it ends. */
function runNodeTest(label, paths) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...paths.map((p) => path.join(TESTS, p))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      const ok = code === 0;
      process.stdout.write(`\n=== ${label} (${seconds.toFixed(1)} s, ${ok ? 'ok' : `FAILED: ${signal ?? `exit ${code}`}`})\n${out}`);
      resolve({ label, seconds, ok });
    });
  });
}

/** Runs the files, at most `jobs` at once and at most BROWSER_JOBS browser files among them, in the order given. */
function pool(list, jobs) {
  const results = [];
  const queue = [...list];
  let running = 0;
  let browsers = 0;
  return new Promise((resolve) => {
    const next = () => {
      while (running < jobs) {
        const i = queue.findIndex((f) => !f.startsWith('browser/') || browsers < BROWSER_JOBS);
        if (i < 0) break;
        const [f] = queue.splice(i, 1);
        const browser = f.startsWith('browser/');
        running++;
        if (browser) browsers++;
        runNodeTest(f, f === 'unit' ? files('unit') : [f]).then((r) => {
          results.push(r);
          running--;
          if (browser) browsers--;
          if (running === 0 && queue.length === 0) resolve(results);
          else next();
        });
      }
    };
    if (list.length === 0) resolve(results);
    else next();
  });
}

/** A test file in any other folder would be skipped without a word: refuse instead. */
function checkFolders() {
  const others = readdirSync(TESTS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !['unit', 'integration', 'browser', 'helpers'].includes(d.name))
    .flatMap((d) => files(d.name));
  if (others.length) throw new Error(`scripts/test.js runs test/unit, test/integration and test/browser only; not: ${others.join(', ')}`);
}

async function main() {
  checkFolders();
  const long = process.argv.includes('--long');
  const jobs = Number(process.env.TEST_JOBS ?? 4);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`TEST_JOBS must be a whole number ≥ 1, not ${process.env.TEST_JOBS}`);
  const started = Date.now();
  const results = [];
  if (long) {
    for (const f of LONG) results.push(await runNodeTest(f, [f]));
  } else {
    const all = [...files('integration'), ...files('browser')].filter((f) => !LONG.includes(f));
    const rank = (f) => (LONGEST_FIRST.includes(f) ? LONGEST_FIRST.indexOf(f) : LONGEST_FIRST.length);
    const together = all.filter((f) => !ALONE.includes(f) && !PAIRED.includes(f)).sort((a, b) => rank(a) - rank(b));
    // The unit tests are one more job of the first phase: they need nothing but a core now and then.
    results.push(...(await pool(['unit', ...together], jobs)));
    results.push(
      ...(await pool(
        PAIRED.filter((f) => all.includes(f)),
        PAIRED_JOBS,
      )),
    );
    for (const f of all.filter((f) => ALONE.includes(f))) results.push(await runNodeTest(f, [f]));
  }
  const total = (Date.now() - started) / 1000;
  const failed = results.filter((r) => !r.ok);
  console.log('\n=== per file (s), longest first');
  for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) console.log(`${r.seconds.toFixed(1).padStart(7)}  ${r.ok ? '  ' : '✗ '}${r.label}`);
  console.log(
    `${total.toFixed(1).padStart(7)}  total wall time${long ? '' : `, ${jobs} at once`}${failed.length ? `; FAILED: ${failed.map((r) => r.label).join(', ')}` : ''}`,
  );
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
