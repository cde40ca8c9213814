/** gateway/ops/lean-histogram.ts: the same /metrics text as prom-client's Histogram for the same observations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { LeanHistogram } from '../../gateway/ops/lean-histogram.js';

const BUCKETS = [0.002, 0.005, 0.01, 0.25, 1, 10];
// On a bound, between bounds, below the first, past the last, negative (a clock a little behind).
const VALUES = [0.002, 0.0021, 0.001, 11, 0.3, -0.004, 0.25, 5, 0.01, 0.0099];

async function both(labelName: string | null, observe: (h: { observe(v: number, label: string): void }) => void): Promise<[string, string]> {
  const theirs = new client.Registry();
  const ours = new client.Registry();
  const reference = new client.Histogram({
    name: 'h_seconds',
    help: 'a histogram',
    buckets: BUCKETS,
    labelNames: labelName ? [labelName] : [],
    registers: [theirs],
  });
  const lean = new LeanHistogram('h_seconds', 'a histogram', BUCKETS, labelName).register(ours);
  observe({ observe: (v, label) => (labelName ? reference.observe({ [labelName]: label }, v) : reference.observe(v)) });
  observe({ observe: (v, label) => lean.observe(v, labelName ? label : undefined) });
  return [await ours.metrics(), await theirs.metrics()];
}

test('without a label: zero buckets before any observation, then the same counts, sums and text as prom-client', async () => {
  const [emptyOurs, emptyTheirs] = await both(null, () => undefined);
  assert.equal(emptyOurs, emptyTheirs);
  assert.match(emptyOurs, /h_seconds_bucket\{le="\+Inf"\} 0/);
  const [ours, theirs] = await both(null, (h) => {
    for (const v of VALUES) h.observe(v, '');
  });
  assert.equal(ours, theirs);
  assert.match(ours, /h_seconds_bucket\{le="0\.002"\} 3\n/, 'on the bound counts in that bucket; below the first too');
  assert.match(ours, /h_seconds_count 10\n/);
});

test('with a label: one series per value, in the order first seen, the same text as prom-client', async () => {
  const [ours, theirs] = await both('camera', (h) => {
    for (const [i, v] of VALUES.entries()) h.observe(v, i % 3 === 0 ? 'cam0' : 'cam1');
  });
  assert.equal(ours, theirs);
  assert.match(ours, /h_seconds_bucket\{le="10",camera="cam1"\} 6\n/);
});

test('a value that is not a number is left out instead of poisoning the sum', async () => {
  const registry = new client.Registry();
  const lean = new LeanHistogram('h_seconds', 'a histogram', BUCKETS).register(registry);
  lean.observe(Number.NaN);
  lean.observe(Number.POSITIVE_INFINITY);
  lean.observe(0.5);
  const text = await registry.metrics();
  assert.match(text, /h_seconds_sum 0\.5\n/);
  assert.match(text, /h_seconds_count 1\n/);
});
