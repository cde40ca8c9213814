import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCameraList } from '../../capture/cameras/entries.js';
import { loadCaptureConfig } from '../../capture/config.js';

const base = loadCaptureConfig({ CAPTURE_FPS: '12', CAPTURE_WIDTH: '320', CAPTURE_HEIGHT: '240' }, []);
const parse = (text: string): ReturnType<typeof parseCameraList> => parseCameraList('CAMERAS_FILE (x.json)', text, base);

test("an entry's own settings win; the ones it leaves out come from the process's", () => {
  const { cameras, refused } = parse('[{"id":"a","source":"http://cam/a","fps":5,"width":640,"height":480,"quality":70},{"id":"b","source":"test"}]');
  assert.deepEqual(refused, []);
  const [a, b] = cameras;
  assert.deepEqual([a!.config.cameraId, a!.config.fps, a!.config.width, a!.config.height, a!.config.jpegQuality], ['a', 5, 640, 480, 70]);
  assert.deepEqual([b!.config.cameraId, b!.config.fps, b!.config.width, b!.config.height, b!.config.jpegQuality], ['b', 12, 320, 240, null]);
  assert.equal(a!.spec.kind, 'url');
  assert.equal(b!.spec.kind, 'test');
});

test('each bad entry is refused by name and field, and the good ones stand', () => {
  const { cameras, refused } = parse(
    JSON.stringify([
      { id: 'ok', source: 'test' },
      { id: 'fast', source: 'test', fps: 1000 },
      { id: 'x/y', source: 'test' },
      { id: 'odd', source: 'test', colour: 'red' },
      { id: 'ok', source: 'http://cam/other' },
      { id: 'bad', source: 'nope://x' },
      'just a string',
    ]),
  );
  assert.deepEqual(
    cameras.map((c) => c.id),
    ['ok'],
  );
  assert.deepEqual(
    refused.map((r) => [r.id, r.entry, r.field]),
    [
      ['fast', 'camera fast', 'fps'],
      [undefined, 'entry 3', 'id'],
      ['odd', 'camera odd', 'colour'],
      ['ok', 'camera ok', 'id'],
      [undefined, 'entry 7', ''],
      ['bad', 'camera bad', 'source'],
    ],
  );
  assert.match(refused[0]!.message, /^camera fast: fps must be a whole number from 1 to 120$/);
  assert.match(refused[3]!.message, /camera id ok appears twice/);
  assert.match(refused[5]!.message, /^camera bad: source is invalid: unsupported URL scheme/);
});

test('a change of any field changes the key a camera is restarted on; the order of the fields does not', () => {
  const key = (text: string): string => parse(text).cameras[0]!.key;
  assert.equal(key('[{"id":"a","source":"test","fps":5}]'), key('[{"fps":5,"source":"test","id":"a"}]'));
  assert.notEqual(key('[{"id":"a","source":"test","fps":5}]'), key('[{"id":"a","source":"test","fps":6}]'));
});

test('a file that is not a list is refused as a whole, naming the setting', () => {
  assert.throws(() => parse(''), /CAMERAS_FILE \(x\.json\): the file is empty/);
  assert.throws(() => parse('[{"id":"a",'), /CAMERAS_FILE \(x\.json\): invalid JSON/);
  assert.deepEqual(parse('[]').cameras, [], 'an empty list runs no camera');
});

test('a source that holds a password is not repeated in the refusal', () => {
  const { refused } = parse('[{"id":"a","source":"nope://admin:hunter2@cam/x"}]');
  assert.equal(refused.length, 1);
  assert.doesNotMatch(refused[0]!.message, /hunter2/);
});
