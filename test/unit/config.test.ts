import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCaptureConfig } from '../../capture/config.js';
import { parseSourceSpec } from '../../capture/source/kinds/source.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { ConfigError } from '../../lib/settings.js';
import { redactUrl } from '../../lib/redact.js';

test('defaults apply when nothing is set, and the config is frozen', () => {
  const c = loadCaptureConfig({}, []);
  assert.equal(c.cameraId, 'cam0');
  assert.equal(c.source, 'auto');
  assert.equal(c.fps, 30);
  assert.equal(Object.isFrozen(c), true);
  const g = loadGatewayConfig({}, []);
  assert.equal(g.port, 8080);
  assert.equal(g.redisUrl, 'redis://127.0.0.1:6379');
});

test('flags override environment variables', () => {
  const g = loadGatewayConfig({ PORT: '9000' }, ['--port', '9001', '--default-camera', 'lobby']);
  assert.equal(g.port, 9001);
  assert.equal(g.defaultCamera, 'lobby');
});

test('a bad value names the setting, its flag and the allowed values', () => {
  const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ JPEG_QUALITY: '500' }, /JPEG_QUALITY \(--jpeg-quality\) = "500" is invalid: expected a whole number from 1 to 100/],
    [{ CAPTURE_FPS: 'fast' }, /CAPTURE_FPS .* expected a whole number from 1 to 120/],
    [{ CAMERA_ID: '../etc' }, /CAMERA_ID .* expected 1 to 64 characters/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL .* expected scheme redis:\/\/ or rediss:\/\//],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL .* expected one of fatal, error, warn, info, debug, trace, silent/],
  ];
  for (const [env, re] of bad)
    assert.throws(
      () => loadCaptureConfig(env, []),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
    );
  assert.throws(() => loadGatewayConfig({ PORT: '70000' }, []), /PORT \(--port\) = "70000" is invalid: expected a whole number from 1 to 65535/);
  assert.throws(() => loadGatewayConfig({}, ['--prot', '1']), /Unknown option '--prot'.*Known flags: --port/);
});

test('CAPTURE_SOURCE forms', () => {
  assert.deepEqual(
    parseSourceSpec('auto', () => []),
    { kind: 'test' },
  );
  assert.deepEqual(
    parseSourceSpec('auto', () => ['/dev/video2']),
    { kind: 'device', index: 2, path: '/dev/video2' },
  );
  assert.deepEqual(parseSourceSpec('0'), { kind: 'device', index: 0, path: '/dev/video0' });
  assert.deepEqual(parseSourceSpec('/dev/video3'), { kind: 'device', index: 3, path: '/dev/video3' });
  assert.deepEqual(parseSourceSpec('rtsp://cam.local/stream'), { kind: 'url', url: 'rtsp://cam.local/stream' });
  assert.deepEqual(parseSourceSpec('gst:videotestsrc ! videoconvert ! appsink'), { kind: 'gstreamer', pipeline: 'videotestsrc ! videoconvert ! appsink' });
  assert.deepEqual(parseSourceSpec('test'), { kind: 'test' });
  assert.deepEqual(parseSourceSpec(__filename), { kind: 'file', path: __filename });
  // Base name only: a server path is not for logs (it tells an attacker the layout).
  assert.throws(() => parseSourceSpec('/no/such/clip.mp4'), /no such file "clip.mp4"; expected auto, test, a device index/);
  assert.throws(() => parseSourceSpec('ftp://x/y'), /unsupported URL scheme/);
  assert.throws(() => parseSourceSpec('gst:'), /empty GStreamer pipeline/);
});

test('passwords never reach a log line', () => {
  assert.equal(redactUrl('redis://user:s3cret@host:6379/0'), 'redis://user:***@host:6379/0');
  assert.equal(redactUrl('not a url'), '<unparseable url>');
});
