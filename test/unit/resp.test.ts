import { describe, expect, it } from 'vitest';
import { encodeCommand, encodeCommands } from '../../src/redis/resp.js';

describe('RESP encoding', () => {
  it.each([
    [[['PING']], '*1\r\n$4\r\nPING\r\n'],
    [[['SET', 'k', 'v', 'EX', '300']], '*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$3\r\n300\r\n'],
    [[['SET', 'k', 'é']], '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n'],
    [
      [
        ['SET', 'k', Buffer.from('{"a":1}')],
        ['DEL', 'x'],
      ],
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\n{"a":1}\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n',
    ],
    [[['SET', 'k', '']], '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n'],
  ])('%j', (cmds, wire) => {
    expect(encodeCommands(cmds).toString('utf8')).toBe(wire);
    expect(cmds.map((c) => encodeCommand(c)).join('')).toBe(wire);
  });

  it('encodes a slice of the command list', () => {
    const cmds = [['A'], ['B'], ['C']];
    expect(encodeCommands(cmds, 1, 2).toString()).toBe('*1\r\n$1\r\nB\r\n');
  });
});
