import { describe, expect, it } from 'vitest';
import { parseClusterNodes, viewsAgree } from '../../tools/cluster-topology.js';

/** One `CLUSTER NODES` line: id, address, flags, master, ping, pong, epoch, link, slots. */
const line = (id: string, port: number, flags: string, master = '-', slots = ''): string =>
  `${id} 127.0.0.1:${port}@${port + 10000} ${flags} ${master} 0 0 1 connected ${slots}`.trim();

/** Three masters, one replica each, as every node sees it once gossip has settled. */
const settled = (myself: string): string =>
  [
    line('a', 7001, myself === 'a' ? 'myself,master' : 'master', '-', '0-5460'),
    line('b', 7002, myself === 'b' ? 'myself,master' : 'master', '-', '5461-10922'),
    line('c', 7003, 'master', '-', '10923-16383'),
    line('d', 7004, 'slave', 'a'),
    line('e', 7005, 'slave', 'b'),
    line('f', 7006, 'slave', 'c'),
  ].join('\n');

/** Node a's view right after `redis-cli --cluster create`: e and f not yet known as replicas. */
const stale = [
  line('a', 7001, 'myself,master', '-', '0-5460'),
  line('b', 7002, 'master', '-', '5461-10922'),
  line('c', 7003, 'master', '-', '10923-16383'),
  line('d', 7004, 'slave', 'a'),
  line('e', 7005, 'master'),
  line('f', 7006, 'master'),
].join('\n');

describe('parseClusterNodes', () => {
  it('reads roles, masters, slot ranges and failure flags; skips slots being migrated', () => {
    const nodes = parseClusterNodes(
      [
        line('a', 7001, 'myself,master', '-', '0-2 5 [6->-b]'),
        line('b', 7002, 'master,fail?', '-', '6'),
        line('d', 7004, 'slave,fail', 'a'),
      ].join('\n'),
    );
    expect(nodes).toEqual([
      {
        id: 'a',
        addr: '127.0.0.1:7001',
        port: 7001,
        role: 'master',
        masterId: null,
        slots: [0, 1, 2, 5],
        failed: false,
      },
      {
        id: 'b',
        addr: '127.0.0.1:7002',
        port: 7002,
        role: 'master',
        masterId: null,
        slots: [6],
        failed: true,
      },
      {
        id: 'd',
        addr: '127.0.0.1:7004',
        port: 7004,
        role: 'replica',
        masterId: 'a',
        slots: [],
        failed: true,
      },
    ]);
  });
});

describe('viewsAgree', () => {
  const cases: { name: string; views: string[]; replicas?: number; agree: boolean }[] = [
    {
      name: 'settled views (myself flags differ)',
      views: [settled('a'), settled('b')],
      replicas: 3,
      agree: true,
    },
    {
      name: 'one view still lists two replicas as slotless masters',
      views: [settled('a'), stale],
      agree: false,
    },
    { name: 'the stale view alone: replicas missing', views: [stale], replicas: 3, agree: false },
    { name: 'the stale view alone, no replica count asked', views: [stale], agree: true },
    {
      name: 'a slot owned by different masters in two views',
      views: [settled('a'), settled('b').replace('5461-10922', '5462-10922').replace('0-5460', '0-5461')],
      agree: false,
    },
    {
      name: 'a node one view marks failed is left out',
      views: [settled('a'), `${settled('b')}\n${line('g', 7007, 'master,fail', '-')}`],
      agree: true,
    },
    { name: 'no views', views: [], agree: false },
  ];
  it.each(cases)('$name → $agree', ({ views, replicas, agree }) => {
    expect(viewsAgree(views.map(parseClusterNodes), replicas)).toBe(agree);
  });
});
