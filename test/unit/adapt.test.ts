import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CameraInfo } from '../../bus/bus.js';
import { Adaptation, type LinkSample } from '../../gateway/adaptation/adapt.js';
import { frameBytes, ladder, snapRendition } from '../../gateway/adaptation/renditions.js';
import { parseCommand, type Command } from '../../gateway/http/ws-protocol.js';

const WIDTHS = [320, 640, 1280];

test('a requested width snaps to the nearest rendition narrower than the camera, else the camera itself', () => {
  assert.equal(snapRendition(300, 1280, WIDTHS), 320);
  assert.equal(snapRendition(500, 1280, WIDTHS), 640);
  assert.equal(snapRendition(1100, 1280, WIDTHS), null, '1280 is not narrower than a 1280-wide camera');
  assert.equal(snapRendition(5000, 1920, WIDTHS), null, 'never wider than the camera: the camera itself');
  assert.equal(snapRendition(1300, 1920, WIDTHS), 1280);
  assert.equal(snapRendition(320, 320, WIDTHS), null, 'a 320-wide camera has no rendition');
});

test('the ladder runs from the smallest rendition up to the ceiling; bytes are measured or scaled by area', () => {
  assert.deepEqual(ladder(1280, WIDTHS, null), [320, 640, null]);
  assert.deepEqual(ladder(1280, WIDTHS, 640), [320, 640]);
  const info = { width: 1280, lastFrameBytes: 64_000, renditions: [{ width: 640, height: 360, fps: 30, lastFrameBytes: 20_000 }] } as CameraInfo;
  assert.equal(frameBytes(info, null), 64_000);
  assert.equal(frameBytes(info, 640), 20_000, 'measured');
  assert.equal(frameBytes(info, 320), 4_000, 'scaled by area');
});

const sample =
  (s: Partial<LinkSample>): (() => LinkSample) =>
  () => ({ offered: 60, frames: 60, realFrames: 60, bytes: 0, busyMs: 0, elapsedMs: 2000, ...s });
const input = { ladder: [320, 640, null], bytesOf: (r: number | null) => (r === null ? 60_000 : r === 640 ? 15_000 : 4_000) };

test('adaptation: a link that carries too few of the offered frames moves down; one with room moves up', () => {
  const a = new Adaptation();
  assert.equal(a.decide(performance.now(), sample({}), { ...input, current: null }), undefined, 'too early to tell');
  let t = performance.now() + 2500;
  // 300 kB/s: 5 of 30 frames a second at full size.
  assert.equal(a.decide(t, sample({ frames: 10, realFrames: 10, bytes: 600_000, busyMs: 2000 }), { ...input, current: null }), 640);
  t += 2500;
  assert.equal(a.decide(t, sample({ bytes: 900_000, busyMs: 1900 }), { ...input, current: 640 }), undefined, 'held after a switch');
  t += 2500;
  // All offered frames arrive, but full size (60 kB × 30/s = 1.8 MB/s) would not fit a ~470 kB/s link.
  assert.equal(a.decide(t, sample({ bytes: 900_000, busyMs: 1900 }), { ...input, current: 640 }), 640);
  t += 2500;
  // A fast link: the same frames took a tenth of the time.
  assert.equal(a.decide(t, sample({ bytes: 900_000, busyMs: 200 }), { ...input, current: 640 }), null);
});

test('adaptation: a picture that gives only NO SIGNAL after a switch is left, and not tried again soon', () => {
  const a = new Adaptation();
  let t = performance.now() + 2500;
  assert.equal(a.decide(t, sample({ frames: 10, realFrames: 10 }), { ...input, current: null }), 640);
  t += 3500;
  assert.equal(a.decide(t, sample({ frames: 2, realFrames: 0, offered: 2 }), { ...input, current: 640 }), null, 'back to what worked');
  t += 3500;
  assert.equal(a.decide(t, sample({ frames: 10, realFrames: 10 }), { ...input, current: null }), 320, '640 is skipped for a while');
});

test('ws protocol: subscribe options, ack and unsubscribe; refusals say why', () => {
  const parse = (v: unknown): ReturnType<typeof parseCommand> => parseCommand(new TextEncoder().encode(JSON.stringify(v)).buffer as ArrayBuffer);
  // A refusal, by its text (what the client is shown); its code is checked below.
  const cmd = (v: unknown): Command | string => {
    const c = parse(v);
    return 'code' in c ? c.text : c;
  };
  assert.deepEqual(cmd({ subscribe: 'cam0', fps: 5, width: 320, ack: true, adapt: true }), { subscribe: 'cam0', fps: 5, width: 320, ack: true, adapt: true });
  assert.deepEqual(cmd({ subscribe: 'cam0' }), { subscribe: 'cam0', ack: false, adapt: false });
  assert.deepEqual(cmd({ ack: 'cam0' }), { ack: 'cam0' });
  assert.deepEqual(cmd({ unsubscribe: 'cam0' }), { unsubscribe: 'cam0' });
  assert.equal(cmd({ subscribe: 'cam0', adapt: true }), 'adapt needs ack: true');
  assert.equal(cmd({ subscribe: 'cam0', width: 1e6 }), 'width must be a whole number from 16 to 8192');
  assert.equal(cmd({ subscribe: 'cam0', ack: 'yes' }), 'ack and adapt must be true or false');
  assert.deepEqual(
    [parse({ subscribe: 'cam0', adapt: true }), parse({ subscribe: 'cam0', width: 1e6 }), parse({ subscribe: '../x' })].map((c) =>
      'code' in c ? c.code : null,
    ),
    ['adapt_needs_ack', 'bad_width', 'bad_camera'],
  );
});
