/** Client keys: one client counts once whatever form its address takes; IPv6 by its network prefix. */
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/core/limits/client.ts';
import { addressKey, parseIpv6 } from '../../../src/core/limits/ip.ts';

describe('addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7:1111', '203.0.113.7'],
    ['203.0.113.7:2222', '203.0.113.7'],
    [' "203.0.113.7:80" ', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['[::ffff:203.0.113.7]:443', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::9]:8080', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:0000:0000:0000:0001', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['::1', '::/64'],
    ['2001:db8::1.2.3.4', '2001:db8::/64'],
    ['unknown', 'unknown'],
    ['Not-An-Address', 'not-an-address'],
    [`x${'y'.repeat(500)}`, `x${'y'.repeat(63)}`],
  ])('%s counts as %s', (input, key) => {
    expect(addressKey(input, 64)).toBe(key);
  });

  it('takes the prefix length from the setting; 128 counts each address', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1::/56');
    expect(addressKey('2001:db8:1:2ff:3:4:5:6', 56)).toBe('2001:db8:1:200::/56');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6');
    expect(addressKey('2001:db8:0:0:1:0:0:1', 128)).toBe('2001:db8::1:0:0:1');
  });

  it('refuses what is not IPv6 text', () => {
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '::1.2.3', '1:2:3:4:5:6:7::8']) expect(parseIpv6(bad), bad).toBeUndefined();
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
  });
});

describe('clientAddress', () => {
  const headers = (xff: string) => new Headers({ 'x-forwarded-for': xff });
  it('normalises the trusted header and the peer alike', () => {
    expect(clientAddress(headers('198.51.100.1, 203.0.113.7:1111'), '10.0.0.1', 'x-forwarded-for')).toBe('203.0.113.7');
    expect(clientAddress(headers('[2001:db8:1:2::5]:2222'), '10.0.0.1', 'x-forwarded-for')).toBe('2001:db8:1:2::/64');
    expect(clientAddress(new Headers(), '::ffff:10.0.0.1', 'x-forwarded-for')).toBe('10.0.0.1');
    expect(clientAddress(new Headers(), '2001:db8:1:2::5', undefined, 128)).toBe('2001:db8:1:2::5');
  });
});
