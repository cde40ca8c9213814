/** capture/source/kinds/http-open.ts: which redirects of an http(s) camera are followed (CAPTURE_REDIRECTS), and FFmpeg's own turned off. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRedirect, ffmpegOptions, MAX_REDIRECTS } from '../../capture/source/kinds/http-open.js';

const CAMERA = 'http://admin:pw@cam.lan:8080/video.cgi?pwd=x';

test("same-origin follows the camera's own origin only, refuse none, follow any http(s); each refusal names the target, redacted", () => {
  const decide = (location: string | undefined, policy: 'refuse' | 'same-origin' | 'follow', status = 302, hops = 0) =>
    decideRedirect(status, location, CAMERA, CAMERA, hops, policy);
  assert.equal(decide('/x', 'same-origin', 200), null, 'not a redirect');
  assert.equal(decide('/x', 'same-origin', 304), null, '304 is no redirect');
  assert.deepEqual(decide('/mjpg?pwd=y', 'same-origin'), { follow: 'http://admin:pw@cam.lan:8080/mjpg?pwd=y' });
  for (const status of [301, 303, 307, 308])
    assert.ok(decide('/a', 'same-origin', status) !== null && 'follow' in decide('/a', 'same-origin', status)!, String(status));
  const other = decide('http://u:secret@evil.test/a?k=1', 'same-origin');
  assert.deepEqual(other, {
    refused: 'a redirect to http://evil.test/a?…, not followed: another origin (CAPTURE_REDIRECTS=same-origin; follow would follow it)',
  });
  assert.ok('refused' in decide('http://cam.lan:8081/a', 'same-origin')!, 'another port is another origin');
  assert.ok('refused' in decide('https://cam.lan:8080/a', 'same-origin')!, 'another scheme too');
  assert.deepEqual(decide('http://evil.test/a', 'follow'), { follow: 'http://evil.test/a' });
  assert.deepEqual(decide('/a', 'refuse'), { refused: 'a redirect to http://cam.lan:8080/a, not followed (CAPTURE_REDIRECTS=refuse)' });
  assert.deepEqual(decide('file:///etc/passwd', 'follow'), { refused: 'a redirect to file:///etc/passwd, not followed: not http(s)' });
  assert.deepEqual(decide(undefined, 'follow'), { refused: 'a redirect without Location, not followed' });
  assert.ok('follow' in decide('/a', 'follow', 302, MAX_REDIRECTS - 1)!);
  assert.match(JSON.stringify(decide('/a', 'follow', 302, MAX_REDIRECTS)), /more than 5 redirects in a row/);
});

test('a chain is judged against the camera, not the hop before', () => {
  assert.ok('refused' in decideRedirect(302, '/b', 'http://evil.test/a', CAMERA, 1, 'same-origin')!);
});

test("FFmpeg follows no redirect itself, on top of OpenCV's default or the operator's options", () => {
  assert.equal(ffmpegOptions(undefined), 'rtsp_transport;tcp|max_redirects;0');
  assert.equal(ffmpegOptions('rtsp_transport;udp'), 'rtsp_transport;udp|max_redirects;0');
  assert.equal(ffmpegOptions('max_redirects;2'), 'max_redirects;2', "the operator's own choice stands");
});
