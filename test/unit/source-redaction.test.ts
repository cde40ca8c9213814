/** What the capture announces and logs about its source carries no credential. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSpec, forwardRedacted, redactText, secretsOf } from '../../capture/source/kinds/describe.js';
import { parseSourceSpec } from '../../capture/source/kinds/source.js';

const describe = (raw: string): string => describeSpec(parseSourceSpec(raw));

test('URLs: scheme, host and path only; userinfo, query and key=value path parts are gone', () => {
  assert.equal(describe('http://admin:pw1234@cam.local:8080/videostream.cgi?user=admin&pwd=pw1234'), 'stream http://cam.local:8080/videostream.cgi?…');
  assert.equal(describe('rtsp://admin:s3cret@10.0.0.5:554/Streaming/Channels/101'), 'stream rtsp://10.0.0.5:554/Streaming/Channels/101');
  assert.equal(describe('http://cam/snap.cgi?token=abcdef123456'), 'stream http://cam/snap.cgi?…');
  assert.equal(describe('rtsp://10.0.0.9/user=admin_password=tlJwpbo6_channel=1_stream=0.sdp'), 'stream rtsp://10.0.0.9/…');
  assert.equal(describe('http://cam.local/'), 'stream http://cam.local');
});

test('GStreamer pipelines: element names only; files: base name only', () => {
  assert.equal(
    describe(
      'gst:rtspsrc location=rtsp://admin:pw9999@10.0.0.5/stream latency=0 ! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=BGR ! appsink',
    ),
    'GStreamer pipeline rtspsrc ! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw ! appsink',
  );
  assert.equal(describe('gst:rtsp://admin:pw9999@10.0.0.5/stream ! decodebin ! appsink'), 'GStreamer pipeline … ! decodebin ! appsink');
  assert.equal(describe(__filename), 'file source-redaction.test.js');
  assert.equal(describe('/dev/video0'), 'camera /dev/video0 (index 0)');
});

test('secretsOf finds every credential form, and redactText blanks them in any text', () => {
  const cases: Array<[string, string[]]> = [
    ['http://admin:hunter22@cam/x', ['hunter22']],
    ['http://cam/videostream.cgi?user=admin&pwd=qwerty77', ['qwerty77']],
    ['http://cam/a?password=pa55word&x=1', ['pa55word']],
    ['http://cam/a?pass=p4ssp4ss', ['p4ssp4ss']],
    ['http://cam/a?token=tok-abc-123', ['tok-abc-123']],
    ['http://cam/a?key=k3yk3yk3y', ['k3yk3yk3y']],
    ['http://cam/a?api_key=zz11zz11', ['zz11zz11']],
    ['gst:rtspsrc location=rtsp://admin:rtsp-pw-42@10.0.0.5/s ! decodebin ! appsink', ['rtsp-pw-42']],
    ['gst:souphttpsrc location=http://cam/x user-id=admin user-pw=gstpw123 ! jpegdec ! appsink', ['gstpw123']],
    ['http://admin:p%40ss%21word@cam/', ['p%40ss%21word', 'p@ss!word']],
  ];
  for (const [source, secrets] of cases) {
    const found = secretsOf(source);
    const line = JSON.stringify({ msg: 'OpenCV said', err: `failed ${source} (${secrets.join(' ')})` });
    const out = redactText(line, found);
    for (const s of secrets) assert.ok(!out.includes(s), `${s} left in ${out}`);
    assert.doesNotThrow(() => JSON.parse(out), 'a redacted JSON log line stays JSON');
    assert.ok(!out.includes(source), 'the raw source is gone');
  }
  assert.deepEqual(secretsOf('test'), []);
  assert.deepEqual(secretsOf('/dev/video0'), []);
});

test("the source process's output is forwarded line by line with secrets blanked, even when a secret is cut between chunks", async () => {
  const { PassThrough } = await import('node:stream');
  const from = new PassThrough();
  const to = new PassThrough();
  let out = '';
  to.on('data', (d: Buffer) => (out += d.toString()));
  forwardRedacted(from, to, secretsOf('rtsp://admin:CutInTwo99@cam/stream'));
  const text = '[ WARN] cannot open rtsp://admin:CutInTwo99@cam/stream\n{"msg":"again CutInTwo99"}\nlast line without newline CutInTwo99';
  for (let i = 0; i < text.length; i += 7) from.write(text.slice(i, i + 7));
  from.end();
  await new Promise((r) => setImmediate(r));
  assert.equal(out, '[ WARN] cannot open ***\n{"msg":"again ***"}\nlast line without newline ***\n');
});
