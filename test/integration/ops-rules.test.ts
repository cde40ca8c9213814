/**
 * What ships for operators in deploy/: the Prometheus rules pass promtool's check and their own unit tests
 * (deploy/prometheus/camfan-rules.test.yml), and every metric the rules and the Grafana dashboard query is
 * one a real gateway exports, scraped on its own METRICS_PORT with a capture and viewers of both kinds so
 * that the per-camera series exist.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openStream } from '../../harness/mjpeg-client.js';
import { freePort, requireTool, ROOT, sleep, waitFor } from '../../harness/procs.js';
import { openWsViewer } from '../../harness/ws-client.js';
import { withStack } from '../helpers/stack.js';

const RULES_DIR = path.join(ROOT, 'deploy', 'prometheus');
const RULES = path.join(RULES_DIR, 'camfan-rules.yml');
const DASHBOARD = path.join(ROOT, 'deploy', 'grafana', 'camfan-dashboard.json');

function promtool(...args: string[]): string {
  requireTool('promtool', 'sudo apt-get install -y prometheus');
  const r = spawnSync('promtool', args, { cwd: RULES_DIR, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The rule file's `expr:` values (one line, or a `|` block) and `record:` names. */
function ruleExpressions(): { exprs: string[]; records: Set<string> } {
  const lines = readFileSync(RULES, 'utf8').split('\n');
  const exprs: string[] = [];
  const records = new Set<string>();
  lines.forEach((line, i) => {
    const rec = /^\s*- record: (\S+)/.exec(line);
    if (rec) records.add(rec[1]!);
    const m = /^(\s*)expr: (.*)$/.exec(line);
    if (!m) return;
    if (m[2] !== '|') {
      exprs.push(m[2]!);
      return;
    }
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.startsWith(`${m[1]}  `) || lines[j]!.trim() === ''); j++) block.push(lines[j]!);
    exprs.push(block.join('\n'));
  });
  return { exprs, records };
}

function dashboardExpressions(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  return dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

/** Series names a PromQL expression selects: identifiers not followed by `(` (functions) and not keywords or labels. */
function selectedNames(expr: string): string[] {
  const noStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const grouping = /\b(by|on|without|ignoring)\s*\([^)]*\)/g;
  return [...noStrings.replace(grouping, '').matchAll(/(?<![\w:$])[a-zA-Z_:][\w:]*(?![\w:]*\s*\()/g)]
    .map((m) => m[0])
    .filter((n) => n.includes('_') || n.includes(':'));
}

describe('operator rules and dashboard', () => {
  test('promtool: the rules are valid and pass their unit tests', () => {
    assert.match(promtool('check', 'rules', 'camfan-rules.yml'), /SUCCESS: \d+ rules found/);
    assert.match(promtool('test', 'rules', 'camfan-rules.test.yml'), /SUCCESS/);
  });

  describe('on a running gateway', () => {
    let metricsPort = 0;
    const stack = withStack(async () => {
      metricsPort = await freePort();
      return {
        captures: [{ CAMERA_ID: 'cam0', CAPTURE_SOURCE: 'test', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240', CAPTURE_FPS: '15' }],
        // No request rate: the 1,400 made-up requests below must each reach its handler, not a 429.
        gateways: [{ METRICS_PORT: String(metricsPort), REQUEST_RATE_PER_IP: '0' }],
      };
    });

    test('every metric the rules and the dashboard query is on /metrics (its own METRICS_PORT)', async () => {
      const { gateway } = stack;
      const mjpeg = openStream(`${gateway.base}/stream/cam0`);
      const ws = await openWsViewer(gateway.base, { subscribe: { subscribe: 'cam0', ack: true } });
      try {
        await fetch(`${gateway.base}/stream/no..such`); // a refusal, so that camfan_requests_refused_total has a series
        const { exprs, records } = ruleExpressions();
        const queries = [...exprs, ...dashboardExpressions()];
        assert.ok(exprs.length >= 14 && queries.length > exprs.length, `found ${exprs.length} rule and ${queries.length - exprs.length} dashboard queries`);
        const wanted = new Set<string>();
        for (const q of queries) {
          const names = selectedNames(q);
          assert.ok(names.length > 0, `a query that selects no series: ${q}`);
          for (const n of names) {
            if (n.includes(':')) assert.ok(records.has(n), `${n} (in ${q}) is recorded by no rule`);
            else wanted.add(n);
          }
        }
        assert.ok(wanted.has('camfan_viewer_ack_age_seconds_bucket') && wanted.has('camfan_viewers_stale'), 'the age and stale series are queried');
        // Some series start with the first frame that arrives live on the bus (not the latest one read from Redis).
        let missing: string[] = [];
        await waitFor(
          'every queried metric on the metrics port',
          async () => {
            const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
            const exported = new Set(
              text
                .split('\n')
                .filter((l) => l !== '' && !l.startsWith('#'))
                .map((l) => /^[\w:]+/.exec(l)![0]),
            );
            missing = [...wanted].filter((n) => !exported.has(n));
            return missing.length === 0;
          },
          8000,
          200,
        ).catch(() => undefined);
        assert.deepEqual(missing, [], "queried metrics not on the gateway's /metrics");
      } finally {
        ws.close();
        mjpeg.close();
      }
    });

    test('label cardinality is bounded whatever the input: 600 made-up cameras, widths, paths and /ws commands add no series', async () => {
      const { gateway } = stack;
      const series = async (): Promise<string[]> =>
        (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('#'))
          .map((l) => l.replace(/ [^ ]+$/, ''));
      // Every refusal below once first, so that its reason's series exists; then the same again, made up.
      const attack = async (n: number): Promise<void> => {
        const ws = await openWsViewer(gateway.base, { subscribe: { subscribe: `ghost${n}` } });
        const statuses = await Promise.all(
          Array.from({ length: 100 }, async (_, i) => {
            const id = `${n}x${i}`;
            const urls = [
              `/stream/cam${id}`,
              `/snapshot/c${id}?width=${i * 7 + n}`,
              `/snapshot/cam0?width=${17 + i + n}`,
              `/stream/cam${id}?fps=${i + 1}`,
              `/nope/${id}`,
              `/page/${id}.js`,
              `/api/${id}`,
            ];
            return Promise.all(urls.map(async (u) => (await fetch(gateway.base + u)).arrayBuffer()));
          }),
        );
        assert.equal(statuses.length, 100);
        ws.close();
      };
      await attack(0);
      await sleep(1200); // the width requests may ask for renditions: let them be listed (snapped to RENDITION_WIDTHS)
      const before = await series();
      await attack(1);
      await sleep(1200);
      const after = await series();
      // Node's own metrics gain a series per kind of garbage collection as the collector first runs one.
      const added = after.filter((l) => !before.includes(l) && !l.includes('_nodejs_gc_'));
      console.log(`# /metrics series: ${before.length} before, ${after.length} after 600 made-up requests and a /ws socket (${added.length} new)`);
      assert.deepEqual(added, [], 'series added by made-up input');
      assert.ok(
        after.every((l) => !/ghost|x\d|nope/.test(l)),
        'no client-chosen text in a label',
      );
    });
  });
});
