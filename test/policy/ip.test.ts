import t from 'tap';
import { IpMatcher, cidrProblem, isIpAddress } from '../../src/policy/ip.js';

t.test('cidrProblem accepts addresses and CIDRs of both families', async (t) => {
  for (const ok of ['10.0.0.0/8', '10.1.2.3', '0.0.0.0/0', '192.168.1.0/24', '1.2.3.4/32', '::1', '::/0', '2001:db8::/32', '2001:db8::1/128', '::ffff:10.0.0.0/104', 'fe80::1%eth0']) {
    t.equal(cidrProblem(ok), null, ok);
  }
});

t.test('cidrProblem explains what is wrong', async (t) => {
  t.equal(cidrProblem('10.0.0.0/33'), 'bad CIDR "10.0.0.0/33": prefix length must be 0-32');
  t.equal(cidrProblem('2001:db8::/129'), 'bad CIDR "2001:db8::/129": prefix length must be 0-128');
  t.equal(cidrProblem('10.0.0.0/'), 'bad CIDR "10.0.0.0/": prefix length must be 0-32');
  t.equal(cidrProblem('10.0.0.0/08'), 'bad CIDR "10.0.0.0/08": prefix length must be 0-32');
  t.equal(cidrProblem('10.0.0.0/-1'), 'bad CIDR "10.0.0.0/-1": prefix length must be 0-32');
  t.equal(cidrProblem('10.0.0.0/8/8'), 'bad CIDR "10.0.0.0/8/8": prefix length must be 0-32');
  t.equal(cidrProblem('10.0.0.300/8'), 'bad CIDR "10.0.0.300/8": "10.0.0.300" is not an IPv4 or IPv6 address');
  t.equal(cidrProblem('example.com'), 'bad IP address "example.com": not an IPv4 or IPv6 address');
  t.equal(cidrProblem(''), 'bad CIDR "": empty');
  t.equal(cidrProblem(' 10.0.0.1'), 'bad IP address " 10.0.0.1": not an IPv4 or IPv6 address');
  // Shorthand and octal IPv4 forms are refused: 010.0.0.1 would otherwise mean 8.0.0.1.
  for (const bad of ['10', '10.1', '1.2.3', '010.0.0.1', '0x0a.0.0.1', '10.0.0.1.', '1:2:3:4:5:6:7:8:9']) {
    t.match(cidrProblem(bad), /^bad IP address/, bad);
  }
});

t.test('IPv4 ranges', async (t) => {
  const m = IpMatcher.parse(['10.0.0.0/8', '192.168.1.0/24', '203.0.113.7']);
  t.equal(m.size, 3);
  t.same(m.list, ['10.0.0.0/8', '192.168.1.0/24', '203.0.113.7']);
  t.ok(m.contains('10.0.0.0'));
  t.ok(m.contains('10.255.255.255'));
  t.ok(m.contains('192.168.1.200'));
  t.ok(m.contains('203.0.113.7'), 'bare address is a /32');
  t.notOk(m.contains('203.0.113.8'));
  t.notOk(m.contains('11.0.0.1'));
  t.notOk(m.contains('9.255.255.255'));
  t.notOk(m.contains('192.168.2.1'));
});

t.test('prefix boundaries and host bits', async (t) => {
  t.ok(IpMatcher.parse(['0.0.0.0/0']).contains('255.255.255.255'));
  t.ok(IpMatcher.parse(['0.0.0.0/0']).contains('0.0.0.0'));
  t.notOk(IpMatcher.parse(['0.0.0.0/0']).contains('::1'), 'IPv4 /0 is not IPv6');
  const hostBits = IpMatcher.parse(['10.1.2.3/8']);
  t.ok(hostBits.contains('10.200.0.1'), 'host bits are cleared');
  const odd = IpMatcher.parse(['172.16.0.0/12']);
  t.ok(odd.contains('172.31.255.255'));
  t.notOk(odd.contains('172.32.0.0'));
  t.notOk(odd.contains('172.15.255.255'));
  const top = IpMatcher.parse(['128.0.0.0/1']);
  t.ok(top.contains('200.1.1.1'), 'high-bit addresses compare unsigned');
  t.notOk(top.contains('127.255.255.255'));
});

t.test('IPv6 ranges', async (t) => {
  const m = IpMatcher.parse(['2001:db8::/32', '::1', 'fd00:1234:5678:9a00::/56']);
  t.ok(m.contains('2001:db8::1'));
  t.ok(m.contains('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'));
  t.ok(m.contains('2001:0db8:0000::0001'), 'non-canonical text');
  t.notOk(m.contains('2001:db9::1'));
  t.ok(m.contains('::1'));
  t.notOk(m.contains('::2'));
  t.ok(m.contains('fd00:1234:5678:9aff::1'));
  t.notOk(m.contains('fd00:1234:5678:9b00::1'));
  t.ok(m.contains('fe80::1%eth0') === false);
  t.ok(IpMatcher.parse(['fe80::/10']).contains('fe80::1%eth0'), 'zone id ignored');
  t.ok(IpMatcher.parse(['::/0']).contains('2001:db8::1'));
  t.notOk(IpMatcher.parse(['::/0']).contains('10.0.0.1'), 'IPv6 /0 is not IPv4');
});

t.test('IPv4-mapped IPv6', async (t) => {
  const m = IpMatcher.parse(['10.0.0.0/8']);
  t.ok(m.contains('::ffff:10.1.2.3'), 'mapped client matches IPv4 range');
  t.ok(m.contains('::ffff:a01:203'), 'hex form of mapped address');
  t.notOk(m.contains('::ffff:11.1.2.3'));
  t.notOk(m.contains('::10.1.2.3'), 'IPv4-compatible (not mapped) is IPv6');
  const mappedRange = IpMatcher.parse(['::ffff:10.0.0.0/104']);
  t.ok(mappedRange.contains('10.9.9.9'), 'mapped range matches plain IPv4');
  t.ok(mappedRange.contains('::ffff:10.9.9.9'));
  t.notOk(mappedRange.contains('11.0.0.1'));
  t.ok(IpMatcher.parse(['::ffff:10.1.2.3']).contains('10.1.2.3'), 'bare mapped address is a /32');
  t.notOk(m.contains('::ffff:010.1.2.3'), 'embedded quad must be strict decimal too');
  t.notOk(m.contains('1.2.3.4:80'), 'address with port is not an address');
  const nat64 = IpMatcher.parse(['64:ff9b::/96']);
  t.ok(nat64.contains('64:ff9b::1.2.3.4'), 'other embedded-IPv4 forms are read as IPv6');
  t.notOk(nat64.contains('1.2.3.4'));
  t.ok(IpMatcher.parse(['::a01:0/120']).contains('::10.1.0.9'), 'IPv4-compatible text is the IPv6 address it spells');
});

t.test('contains never throws on garbage', async (t) => {
  const m = IpMatcher.parse(['0.0.0.0/0', '::/0']);
  for (const junk of ['', 'garbage', '10.0.0.0/8', '999.1.1.1', '010.0.0.1', '10', ':::', '1.2.3.4 ', 'ffff::ffff::1', undefined, null, 42, {}]) {
    t.equal(m.contains(junk as unknown as string), false, String(junk));
  }
  t.equal(isIpAddress('10.0.0.1'), true);
  t.equal(isIpAddress('nope'), false);
});

t.test('repeated lookups use the same answer (one-entry cache)', async (t) => {
  const a = IpMatcher.parse(['10.0.0.0/8']);
  const b = IpMatcher.parse(['2001:db8::/32']);
  for (let i = 0; i < 3; i++) {
    t.equal(a.contains('10.0.0.1'), true);
    t.equal(b.contains('10.0.0.1'), false);
    t.equal(b.contains('2001:db8::5'), true);
    t.equal(a.contains('2001:db8::5'), false);
  }
});

t.test('parse throws naming every bad entry; none matches nothing', async (t) => {
  t.throws(() => IpMatcher.parse(['10.0.0.0/8', '10.0.0.0/33', 'nope']), {
    message: 'bad CIDR "10.0.0.0/33": prefix length must be 0-32; bad IP address "nope": not an IPv4 or IPv6 address',
  });
  t.equal(IpMatcher.none.size, 0);
  t.equal(IpMatcher.none.contains('10.0.0.1'), false);
  t.equal(IpMatcher.parse([]).contains('::1'), false);
});
