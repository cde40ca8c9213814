/**
 * Two capture processes carry the same CAMERAS_FILE against one Redis: each camera is captured by exactly
 * one of them (the holder of its lease), the cameras are spread over both, and when one is killed (SIGKILL:
 * no clean hand-over) the other takes its cameras and their viewers get frames again within 5 s; a process
 * started later is handed its share. Real redis-server, captures, gateway, viewers; the cameras are HTTP
 * MJPEG streams served by the test (passed through).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStream, type Part, type StreamClient } from '../../harness/mjpeg-client.js';
import { camerasFileEnv, startCapture, waitFor, waitForFrames, type Proc } from '../../harness/procs.js';
import { makeJpegs, startCamera, type FakeCamera } from '../../harness/mjpeg-camera.js';
import { Spread } from '../../capture/cameras/spread.js';
import { withStack } from '../helpers/stack.js';

const isLive = (p: Part): boolean => !p.jpeg.toString('latin1', 6, 120).includes(' nosignal');
const IDS = Array.from({ length: 12 }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);

describe('cameras shared by lease between capture processes', () => {
  let camera: FakeCamera;
  let dir: string;
  const captures: Proc[] = [];
  let env: Record<string, string>;
  let survivor: Proc;
  const viewers = new Map<string, StreamClient>();
  const stack = withStack(() => ({ gateways: [{ LIVE_TIMEOUT_MS: '1000' }] }));

  /** The cameras a capture process started and did not stop since, from its log. */
  const carried = (p: Proc): Set<string> => {
    const held = new Set<string>();
    for (const line of p.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const l = JSON.parse(line) as { msg?: string; camera?: string };
      if (l.msg === 'starting camera') held.add(l.camera!);
      if (l.msg === 'stopping camera') held.delete(l.camera!);
    }
    return held;
  };
  const owners = async (): Promise<Array<string | null>> => {
    const c = stack.redis.client();
    try {
      return await Promise.all(IDS.map((id) => c.get(`camfan:{${id}}:lease`)));
    } finally {
      c.disconnect();
    }
  };

  before(async () => {
    camera = await startCamera({ jpegs: makeJpegs(20, '320x240'), fps: 20 });
    dir = mkdtempSync(path.join(tmpdir(), 'camfan-cameras-lease-'));
    const file = path.join(dir, 'cameras.json');
    writeFileSync(file, JSON.stringify(IDS.map((id) => ({ id, source: `http://127.0.0.1:${camera.port}/${id}` }))));
    env = camerasFileEnv(stack.redis.url, file, { CAMERA_LEASE_MS: '2000' });
    // Both at once: they race for the leases.
    const started = Date.now();
    captures.push(startCapture(env), startCapture(env));
    stack.captures.push(...captures);
    await Promise.all(IDS.map((id) => waitForFrames(stack.redis, id)));
    // Both alive: each camera goes to its home process (those taken by the other in the first race are handed back).
    let last = '';
    let steadySince = Date.now();
    await waitFor(
      'the cameras spread over both processes, and staying put for 2 s',
      () => {
        const [a, b] = captures.map(carried) as [Set<string>, Set<string>];
        const now = `${[...a].sort()}|${[...b].sort()}`;
        if (now !== last) [last, steadySince] = [now, Date.now()];
        return a.size > 0 && b.size > 0 && a.size + b.size === IDS.length && Date.now() - steadySince >= 2000;
      },
      20000,
      100,
    );
    const handed = captures.map(
      (p) =>
        p
          .output()
          .split('\n')
          .filter((l) => l.includes('handed to the capture process')).length,
    );
    console.log(`# spread settled ${steadySince - started} ms after the start; cameras handed back: ${handed.join(' and ')}`);
    for (const id of IDS) viewers.set(id, openStream(`${stack.gateway.base}/stream/${id}`));
    await waitFor('every viewer streaming', () => [...viewers.values()].every((v) => v.parts.filter(isLive).length >= 3), 8000);
  });
  after(async () => {
    for (const v of viewers.values()) v.close();
    await camera?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('each camera is captured by exactly one process, the holder of its lease, and both carry some', async () => {
    // Two lease periods: long enough for a second holder to show up if the leases let one in.
    await new Promise((r) => setTimeout(r, 4000));
    const [a, b] = captures.map(carried) as [Set<string>, Set<string>];
    console.log(`# cameras per process: ${a.size} and ${b.size}`);
    assert.deepEqual(
      [...a].filter((id) => b.has(id)),
      [],
      'no camera in both',
    );
    assert.deepEqual([...new Set([...a, ...b])].sort(), IDS, 'every camera in one');
    const held = await owners();
    assert.ok(
      held.every((o) => o !== null),
      'every camera has a lease',
    );
    assert.equal(new Set(held).size, (a.size > 0 ? 1 : 0) + (b.size > 0 ? 1 : 0), 'one lease owner per process that captures');
    for (const [id, v] of viewers) {
      const seqs = v.parts.filter(isLive).map((p) => p.seq!);
      // Two captures of one camera would interleave two sequences.
      assert.ok(
        seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
        `${id}: one sequence of frames`,
      );
    }
  });

  test("a killed process's cameras are taken over by the other and their viewers get frames again within 5 s", async () => {
    const [a, b] = captures.map(carried) as [Set<string>, Set<string>];
    const victim = a.size >= b.size ? 0 : 1;
    const taken = [...(victim === 0 ? a : b)];
    const lastSeq = new Map(taken.map((id) => [id, viewers.get(id)!.parts.filter(isLive).at(-1)!.seq!]));
    const from = new Map(taken.map((id) => [id, viewers.get(id)!.parts.length]));
    const killedAt = Date.now();
    captures[victim]!.child.kill('SIGKILL');
    // The survivor's runner starts its sequence again: a frame numbered below the last one is the new capture's.
    const back = await Promise.all(
      taken.map(async (id) => {
        const v = viewers.get(id)!;
        const part = await waitFor(`${id} back`, () => v.parts.slice(from.get(id)).find((p) => isLive(p) && p.seq! < lastSeq.get(id)!), 8000, 20);
        return part.receivedAt - killedAt;
      }),
    );
    console.log(`# ${taken.length} camera(s) taken over; frames again after ${back.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    for (const ms of back) assert.ok(ms < 5000, `frames again after ${ms.toFixed(0)} ms`);
    assert.deepEqual([...carried(captures[1 - victim]!)].sort(), IDS, 'the survivor carries every camera');
    survivor = captures[1 - victim]!;
  });

  test('a process started later gets its share: the one that carries every camera hands those cameras back', async () => {
    const late = startCapture(env);
    stack.captures.push(late);
    const t0 = Date.now();
    // Where every camera belongs, computed as the processes compute it, from the ids they log.
    const owner = (p: Proc): string => (/"owner":"([^"]+)"/.exec(p.output()) ?? [])[1] ?? '';
    await waitFor('the newcomer registered', () => owner(late), 5000);
    const spread = new Spread(owner(survivor));
    spread.update([owner(survivor), owner(late)].sort());
    const homes = IDS.filter((id) => spread.home(id) === owner(late));
    await waitFor(
      `the newcomer carrying the ${homes.length} cameras that belong to it, and the survivor the others`,
      () => {
        const [a, b] = [carried(survivor), carried(late)];
        return [...b].sort().join() === homes.join() && a.size + b.size === IDS.length && [...a].every((id) => !b.has(id));
      },
      20000,
      100,
    );
    const handed = survivor
      .output()
      .split('\n')
      .filter((l) => l.includes('handed to the capture process')).length;
    console.log(`# newcomer: ${carried(late).size} cameras after ${Date.now() - t0} ms (${handed} handed back)`);
    assert.equal(handed, homes.length, 'each of them handed back once');
    await waitFor('every camera live again', () => Promise.all(IDS.map((id) => waitForFrames(stack.redis, id, 3000))).then(() => true), 8000);
  });
});
