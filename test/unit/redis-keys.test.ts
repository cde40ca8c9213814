/** The camera entries' keys and which Redis error replies cost a connection (bus/channels.ts, bus/redis-connection.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cameraOfKey, channels } from '../../bus/channels.js';
import { reconnectOnError } from '../../bus/redis-connection.js';

test("a camera's entry key names its camera, in the camera's hash slot, and only such keys do", () => {
  assert.equal(channels.camera('door'), 'camfan:{door}:camera');
  assert.equal(cameraOfKey(channels.camera('door')), 'door');
  // What SCAN MATCH camfan:{*}:camera can also return: the id is then no camera id, and the entry is skipped.
  assert.equal(cameraOfKey('camfan:{a}:x:{b}:camera'), 'a}:x:{b');
  for (const other of ['camfan:{door}:latest', 'camfan:cameras', 'camfan:{door}:camera:x', 'x:camfan:{door}:camera'])
    assert.equal(cameraOfKey(other), null, other);
});

test('only READONLY (the server became a replica) reconnects; refusals and wrong types do not', () => {
  assert.equal(reconnectOnError(new Error("READONLY You can't write against a read only replica.")), true);
  for (const reply of [
    'NOPERM this user has no permissions to access one of the keys used as arguments',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'EXECABORT Transaction discarded because of previous errors.',
    'ERR unknown command',
    'LOADING Redis is loading the dataset in memory',
  ]) {
    assert.equal(reconnectOnError(new Error(reply)), false, reply);
  }
});
