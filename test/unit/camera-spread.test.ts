import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Spread } from '../../capture/cameras/spread.js';

const cameras = Array.from({ length: 200 }, (_, i) => `cam${i}`);
const peers = ['h1:10:aa', 'h1:11:bb', 'h2:10:cc', 'h3:99:dd'];

const homes = (self: string, list: string[]): string[] => {
  const s = new Spread(self);
  s.update(list);
  return cameras.map((c) => s.home(c));
};

test("every process agrees on each camera's home, whatever process asks", () => {
  const views = peers.map((p) => homes(p, peers));
  for (const v of views) assert.deepEqual(v, views[0]);
});

test('the cameras spread over the processes: none gets less than half or more than twice its share', () => {
  const counts = new Map<string, number>();
  for (const h of homes(peers[0]!, peers)) counts.set(h, (counts.get(h) ?? 0) + 1);
  const share = cameras.length / peers.length;
  for (const p of peers) {
    const n = counts.get(p) ?? 0;
    assert.ok(n >= share / 2 && n <= share * 2, `${p}: ${n} cameras of ${cameras.length}`);
  }
});

test('a process leaving moves only its own cameras; one joining takes cameras only for itself', () => {
  const before = homes(peers[0]!, peers);
  const after = homes(peers[0]!, peers.slice(0, 3));
  cameras.forEach((_, i) => {
    if (before[i] !== peers[3]) assert.equal(after[i], before[i], `${cameras[i]} moved though its home stayed`);
  });
  const joined = homes(peers[0]!, [...peers, 'h4:1:ee']);
  cameras.forEach((_, i) => {
    if (joined[i] !== 'h4:1:ee') assert.equal(joined[i], before[i]);
  });
});

test("alone, or before Redis lists anyone, a process is every camera's home; the list settles after two same reads", () => {
  const s = new Spread('me');
  assert.ok(cameras.every((c) => s.isMine(c)));
  s.update(['me', 'other']);
  assert.equal(s.settled, false);
  s.update(['me', 'other']);
  s.update(['me', 'other']);
  assert.equal(s.settled, true);
  s.update(['other']);
  assert.equal(s.size, 2, 'itself counted even when the list misses it');
  assert.equal(s.settled, true, 'the same processes');
  s.update(['me']);
  assert.equal(s.settled, false, 'a change starts over');
});
