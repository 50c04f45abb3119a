/**
 * classifyError: what a failed cycle is counted under. Redis error replies by their code, connection
 * failures by type, the Massive client's errors by class; nothing by searching a message.
 */
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BulkWriteError } from '../../src/redis/bus.js';
import {
  ClusterReadError,
  RedisConnectionError,
  classifyError,
  isRetryableRedisError,
  replyCode,
} from '../../src/redis/errors.js';
import {
  FetchFailedError,
  MalformedPageError,
  MassiveAuthError,
  MassiveHttpError,
  MassiveNetworkError,
} from '../../src/provider/massive/errors.js';
import { EpochLostError } from '../../src/wiring/epoch-store.js';

const reply = (message: string): Error => new (ReplyError as new (m: string) => Error)(message);
const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });
const errno = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });

const CASES: [string, unknown, string, boolean][] = [
  // [what, error, kind, retryable]
  ['MOVED (reshard)', reply('MOVED 2797 127.0.0.1:7001'), 'redis', true],
  ['ASK (slot migrating)', reply('ASK 2797 127.0.0.1:7001'), 'redis', true],
  ['TRYAGAIN', reply('TRYAGAIN Multiple keys request during rehashing of slot'), 'redis', true],
  ['CLUSTERDOWN', reply('CLUSTERDOWN The cluster is down'), 'redis', true],
  ['LOADING', reply('LOADING Redis is loading the dataset in memory'), 'redis', true],
  ['READONLY', reply("READONLY You can't write against a read only replica."), 'redis', false],
  ['OOM', reply("OOM command not allowed when used memory > 'maxmemory'."), 'redis', false],
  ['NOAUTH', reply('NOAUTH Authentication required.'), 'redis', false],
  ['WRONGPASS', reply('WRONGPASS invalid username-password pair or user is disabled.'), 'redis', false],
  [
    'WRONGTYPE is our bug',
    reply('WRONGTYPE Operation against a key holding the wrong kind of value'),
    'internal',
    false,
  ],
  ['ERR is our bug', reply("ERR unknown command 'FOO'"), 'internal', false],
  ['a reply that only mentions MOVED', reply('ERR MOVED is not a command here'), 'internal', false],
  [
    'MaxRetriesPerRequestError',
    named(
      'MaxRetriesPerRequestError',
      'Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.',
    ),
    'redis',
    true,
  ],
  ['ClusterAllFailedError', named('ClusterAllFailedError', 'Failed to refresh slots cache.'), 'redis', true],
  ['connection closed', new Error('Connection is closed.'), 'redis', true],
  ['no startup node', new Error('None of startup nodes is available'), 'redis', true],
  [
    'too many redirections',
    new Error('Too many Cluster redirections. Last error: MOVED 1 127.0.0.1:1'),
    'redis',
    true,
  ],
  ['ECONNREFUSED', errno('ECONNREFUSED'), 'redis', true],
  ['ECONNRESET', errno('ECONNRESET'), 'redis', true],
  ['bulk socket closed', new RedisConnectionError('redis bulk connection closed'), 'redis', true],
  [
    'bulk write refused',
    new BulkWriteError(3, "OOM command not allowed when used memory > 'maxmemory'."),
    'redis',
    false,
  ],
  [
    'cluster read gave up',
    new ClusterReadError(10, reply('CLUSTERDOWN The cluster is down')),
    'redis',
    false,
  ],
  ['epoch lost', new EpochLostError('Redis reconnected while writing the epoch'), 'redis', false],
  [
    'wrapped by cause',
    new Error('cycle step failed', { cause: reply('MOVED 1 127.0.0.1:7002') }),
    'redis',
    false,
  ],
  ['a message that says redis', new Error('redis is unhappy: ECONNREFUSED OOM READONLY'), 'internal', false],
  ['TypeError', new TypeError("Cannot read properties of undefined (reading 'x')"), 'internal', false],
  ['not an Error', 'MOVED 1 127.0.0.1:7000', 'internal', false],
  ['undefined', undefined, 'internal', false],
  ['401', new MassiveAuthError(401, 'r1', 'bad key'), 'auth', false],
  ['429', new MassiveHttpError(429, 'r2', 'slow down', '/v3/x'), 'rate_limited', false],
  ['502', new MassiveHttpError(502, undefined, undefined, '/v3/x'), 'server', false],
  ['404', new MassiveHttpError(404, undefined, undefined, '/v3/x'), 'client', false],
  ['malformed page', new MalformedPageError('/v3/x'), 'malformed', false],
  ['API timeout', new MassiveNetworkError('/v3/x', 'timeout'), 'timeout', false],
  ['fetch failed', new FetchFailedError('I:SPX', ['all streams failed']), 'fetch_failed', false],
];

describe('classifyError', () => {
  it.each(CASES)('%s → %s', (_what, err, kind, retryable) => {
    expect(classifyError(err)).toBe(kind);
    expect(isRetryableRedisError(err)).toBe(retryable);
  });

  it('a reply code is the first word of an error reply, and only of an error reply', () => {
    expect(replyCode(reply('MOVED 2797 127.0.0.1:7001'))).toBe('MOVED');
    expect(replyCode(reply('CLUSTERDOWN The cluster is down'))).toBe('CLUSTERDOWN');
    expect(replyCode(new Error('MOVED 2797 127.0.0.1:7001'))).toBeNull();
    expect(replyCode(reply('moved lower case'))).toBeNull();
  });

  it('error classes carry their cause', () => {
    const cause = reply('CLUSTERDOWN The cluster is down');
    expect(new ClusterReadError(10, cause).cause).toBe(cause);
    expect(new ClusterReadError(10, cause).message).toBe(
      'Redis Cluster read failed after 10 attempts: CLUSTERDOWN The cluster is down',
    );
  });
});
