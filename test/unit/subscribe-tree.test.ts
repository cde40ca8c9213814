import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisTarget, type RedisTarget } from '../../bus/redis-connection.js';
import { parseReplication } from '../../bus/subscribe-tree.js';
import { loadGatewayConfig } from '../../gateway/config.js';

const base = { redisUrl: 'redis://primary:6379', redisClusterNodes: [], redisTlsCa: '' };

test('REDIS_SUBSCRIBE_URL: a list in order of preference; empty means REDIS_URL', () => {
  assert.deepEqual(loadGatewayConfig({}, []).redisSubscribeUrl, []);
  const g = loadGatewayConfig({ REDIS_SUBSCRIBE_URL: 'redis://r1:6380, redis://r2:6380' }, []);
  assert.deepEqual(g.redisSubscribeUrl, ['redis://r1:6380', 'redis://r2:6380']);
});

test('a rejected REDIS_SUBSCRIBE_URL never shows a password, whichever URL of the list is wrong', () => {
  assert.throws(
    () => loadGatewayConfig({ REDIS_SUBSCRIBE_URL: 'redis://u:secret1@r1:6380,http://u:secret2@r2' }, []),
    (e: Error) => /REDIS_SUBSCRIBE_URL .*u:\*\*\*@r1:6380,http:\/\/u:\*\*\*@r2.*expected scheme redis/.test(e.message) && !/secret/.test(e.message),
  );
});

test('the primary is the last subscribe endpoint, and a list of only the primary is no tree', () => {
  const urls = (t: RedisTarget): string[] | undefined => (t.kind === 'standalone' ? t.subscribeUrls : ['a cluster']);
  assert.equal(urls(redisTarget(base)), undefined);
  assert.equal(urls(redisTarget({ ...base, redisSubscribeUrl: ['redis://primary:6379'] })), undefined);
  const t = redisTarget({ ...base, redisSubscribeUrl: ['redis://r1:6380', 'redis://primary:6379', 'redis://r2:6380'] });
  assert.deepEqual(urls(t), ['redis://r1:6380', 'redis://r2:6380', 'redis://primary:6379']);
});

test('REDIS_SUBSCRIBE_URL with REDIS_CLUSTER_NODES is refused, naming both', () => {
  assert.throws(
    () => redisTarget({ ...base, redisClusterNodes: [{ host: 'n1', port: 7000 }], redisSubscribeUrl: ['redis://r1:6380'] }),
    /REDIS_SUBSCRIBE_URL .*REDIS_CLUSTER_NODES/,
  );
});

test('INFO replication: role and, on a replica, its master link', () => {
  assert.deepEqual(parseReplication('# Replication\r\nrole:master\r\nconnected_slaves:1\r\n'), { role: 'master', masterLink: null });
  assert.deepEqual(parseReplication('# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_link_status:up\r\n'), {
    role: 'replica',
    masterLink: 'up',
  });
  assert.deepEqual(parseReplication('role:slave\r\nmaster_link_status:down\r\nmaster_sync_in_progress:1\r\n'), { role: 'replica', masterLink: 'down' });
  assert.deepEqual(parseReplication(''), { role: 'unknown', masterLink: null });
});
