import { describe, expect, it } from 'vitest';
import { benchUsage, parseBenchArgs, SCENARIOS, UsageError } from '../../bench/args.js';

describe('the benchmark command line', () => {
  it('has the documented defaults', () => {
    const a = parseBenchArgs([]);
    expect(a).toMatchObject({
      json: false,
      help: false,
      runs: 5,
      warmUp: 6,
      latencyMs: 40,
      concurrency: 10,
      rate: 250,
      growth: [2000, 5000, 10000, 20000, 40000],
      liveRates: [5000, 20000],
      liveSeconds: 20,
      chainCompat: 'none',
      compatRounds: 6,
      compatRuns: 3,
      slowlogUs: 1000,
      simNice: 10,
      simNiceFetch: 0,
      redisSchedCompat: 'fifo',
      mainThreadSched: 'fifo',
    });
    expect([...a.only]).toEqual([...SCENARIOS]);
  });

  it('reads what it is given', () => {
    const a = parseBenchArgs(['--json', '--only', 'growth, fetch', '--growth', '20000,40000', '--runs', '3']);
    expect(a.json).toBe(true);
    expect([...a.only]).toEqual(['growth', 'fetch']);
    expect(a.growth).toEqual([20000, 40000]);
    expect(a.runs).toBe(3);
    expect(parseBenchArgs(['--warm-up', '0']).warmUp).toBe(0);
    expect(() => parseBenchArgs(['--warm-up', 'six'])).toThrow(
      /--warm-up: expected an integer of at least 0/,
    );
    expect(parseBenchArgs(['--main-thread-sched', 'other']).mainThreadSched).toBe('other');
  });

  it('--help asks for the list, which names every option with its default', () => {
    expect(parseBenchArgs(['--help']).help).toBe(true);
    const text = benchUsage();
    for (const o of ['--json', '--only <value>', '--growth <value>', '--sim-nice-fetch <value>'])
      expect(text).toContain(o);
    expect(text).toContain('(default 2000,5000,10000,20000,40000)');
  });

  it.each([
    [['--hepl'], /Unknown option '--hepl'/],
    [['--runs', 'five'], /^--runs: expected an integer of at least 1, got "five"$/],
    [['--runs', '0'], /^--runs: expected an integer of at least 1, got "0"$/],
    [['--sim-nice', '20'], /^--sim-nice: expected an integer from 0 to 19, got "20"$/],
    [['--only', 'burst,gex'], /^--only: expected burst or write or .* got "gex"$/],
    [['--growth', '20000,2e'], /^--growth: expected an integer of at least 1, got "2e"$/],
    [['--chain-compat', 'full'], /^--chain-compat: expected none or marketswarm, got "full"$/],
    [['--redis-sched-compat', 'rr'], /^--redis-sched-compat: expected fifo or other, got "rr"$/],
    [['--main-thread-sched', 'idle'], /^--main-thread-sched: expected fifo or rr or other, got "idle"$/],
    [['extra'], /positional/],
  ])('refuses %j with a message naming the option', (argv, message) => {
    let caught: unknown;
    try {
      parseBenchArgs(argv);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toMatch(message);
  });
});
