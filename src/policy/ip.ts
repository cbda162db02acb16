// CIDR matching for `ip:` rules (and any other address list in the config, e.g. trusted proxies).
// CIDRs are parsed once into 32-bit words; contains() parses the one address it is given and
// compares words, so a request never re-parses configuration.
import ipaddr from 'ipaddr.js';

/** A parsed address: IPv4 as an unsigned 32-bit number, IPv6 as four 32-bit words. */
type Parsed = number | Uint32Array;

/**
 * Parses IPv4 (strict dotted quad) or IPv6 text, or returns null. ipaddr.js alone would accept
 * "10", "1.2.3" or octal "010.0.0.1" (= 8.0.0.1) as IPv4; an access rule must not guess, so IPv4
 * has to be four decimal octets without leading zeros.
 */
function parseAddress(s: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    return parseAddressUnsafe(s);
    /* c8 ignore next 3 */
  } catch {
    return null; // ipaddr.js may throw on input its isValid() let through; garbage never matches
  }
}

function parseAddressUnsafe(s: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!s.includes(':')) return ipaddr.IPv4.isValidFourPartDecimal(s) ? ipaddr.IPv4.parse(s) : null;
  if (s.includes('.')) {
    // Embedded dotted quad (::ffff:10.1.2.3, 64:ff9b::1.2.3.4). ipaddr.js reads any such text as
    // IPv4-mapped (it turns "::10.1.2.3" into "::ffff:10.1.2.3"), so rewrite the quad as two hex
    // words and let the IPv6 parser see the real address.
    const colon = s.lastIndexOf(':');
    const quad = s.slice(colon + 1);
    if (!ipaddr.IPv4.isValidFourPartDecimal(quad)) return null;
    const o = ipaddr.IPv4.parse(quad).octets;
    s = `${s.slice(0, colon + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  return ipaddr.IPv6.isValid(s) ? ipaddr.IPv6.parse(s) : null;
}

function v4Number(octets: readonly number[]): number {
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

function v6Words(parts: readonly number[]): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((parts[2 * i]! << 16) | parts[2 * i + 1]!) >>> 0;
  return w;
}

/** IPv4-mapped IPv6 (::ffff:10.1.2.3, what a dual-stack socket reports) is matched as IPv4. */
function toParsed(a: ipaddr.IPv4 | ipaddr.IPv6): Parsed {
  if (a.kind() === 'ipv4') return v4Number((a as ipaddr.IPv4).octets);
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v4Number(v6.toIPv4Address().octets);
  return v6Words(v6.parts);
}

// One-entry cache: a request evaluates several `ip:` rules (and trusted_proxies) against the same
// client address, so the last parse is reused. Parsed values are never mutated.
let lastText: string | undefined;
let lastParsed: Parsed | null = null;

function parseCached(s: string): Parsed | null {
  if (s === lastText) return lastParsed;
  let parsed: Parsed | null = null;
  if (typeof s === 'string') {
    const a = parseAddress(s);
    parsed = a === null ? null : toParsed(a);
  }
  lastText = s;
  lastParsed = parsed;
  return parsed;
}

/** True when `s` is an IPv4 or IPv6 address (not a CIDR). */
export function isIpAddress(s: string): boolean {
  return parseCached(s) !== null;
}

interface Entry {
  /** Network address, host bits cleared. */
  net: Parsed;
  /** Mask words (one number for IPv4). */
  mask: Parsed;
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Mask(prefix: number): Uint32Array {
  const m = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    m[i] = v4Mask(bits);
  }
  return m;
}

/** Parses one address or CIDR into an entry, or returns a problem message. */
function parseEntry(s: string): Entry | string {
  if (typeof s !== 'string' || s === '') return `bad CIDR ${JSON.stringify(s)}: empty`;
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const addr = parseAddress(addrText);
  if (addr === null) {
    return slash < 0
      ? `bad IP address ${JSON.stringify(s)}: not an IPv4 or IPv6 address`
      : `bad CIDR ${JSON.stringify(s)}: ${JSON.stringify(addrText)} is not an IPv4 or IPv6 address`;
  }
  const isV4 = addr.kind() === 'ipv4';
  const max = isV4 ? 32 : 128;
  let prefix = max; // a bare address is a /32 or /128
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) {
      return `bad CIDR ${JSON.stringify(s)}: prefix length must be 0-${max}`;
    }
    prefix = Number(p);
  }
  // Host bits (10.1.2.3/8) are cleared rather than refused, as most tools do.
  if (isV4) {
    const mask = v4Mask(prefix);
    return { net: (v4Number((addr as ipaddr.IPv4).octets) & mask) >>> 0, mask };
  }
  const v6 = addr as ipaddr.IPv6;
  // ::ffff:10.0.0.0/104 is the IPv4 range 10.0.0.0/8; mapped clients are matched as IPv4, so the
  // range must be too. A shorter mapped prefix stays IPv6 (and so matches only real IPv6).
  if (v6.isIPv4MappedAddress() && prefix >= 96) {
    const mask = v4Mask(prefix - 96);
    return { net: (v4Number(v6.toIPv4Address().octets) & mask) >>> 0, mask };
  }
  const mask = v6Mask(prefix);
  const net = v6Words(v6.parts);
  for (let i = 0; i < 4; i++) net[i] = (net[i]! & mask[i]!) >>> 0;
  return { net, mask };
}

/**
 * Null when `s` is a valid IPv4/IPv6 address or CIDR, else a message such as
 * `bad CIDR "10.0.0.0/33": prefix length must be 0-32`.
 */
export function cidrProblem(s: string): string | null {
  const e = parseEntry(s);
  return typeof e === 'string' ? e : null;
}

/** A set of addresses and CIDRs, parsed once; contains() never throws. */
export class IpMatcher {
  /** Matches nothing. */
  static readonly none: IpMatcher = new IpMatcher([], new Uint32Array(0), new Uint32Array(0), [], []);

  /** Throws an Error naming every bad entry. */
  static parse(list: string[]): IpMatcher {
    const problems: string[] = [];
    const v4: Entry[] = [];
    const v6: Entry[] = [];
    for (const s of list) {
      const e = parseEntry(s);
      if (typeof e === 'string') problems.push(e);
      else if (typeof e.net === 'number') v4.push(e);
      else v6.push(e);
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
    return new IpMatcher(
      Object.freeze([...list]),
      Uint32Array.from(v4, (e) => e.net as number),
      Uint32Array.from(v4, (e) => e.mask as number),
      v6.map((e) => e.net as Uint32Array),
      v6.map((e) => e.mask as Uint32Array),
    );
  }

  /** Number of addresses/CIDRs. */
  readonly size: number;

  private constructor(
    /** The entries as written, for messages. */
    readonly list: readonly string[],
    private readonly v4Net: Uint32Array,
    private readonly v4Mask: Uint32Array,
    private readonly v6Net: readonly Uint32Array[],
    private readonly v6Mask: readonly Uint32Array[],
  ) {
    this.size = v4Net.length + v6Net.length;
  }

  contains(ip: string): boolean {
    const a = parseCached(ip);
    if (a === null) return false;
    if (typeof a === 'number') {
      const nets = this.v4Net;
      const masks = this.v4Mask;
      for (let i = 0; i < nets.length; i++) {
        if (((a & masks[i]!) >>> 0) === nets[i]) return true;
      }
      return false;
    }
    for (let i = 0; i < this.v6Net.length; i++) {
      const net = this.v6Net[i]!;
      const mask = this.v6Mask[i]!;
      if (
        ((a[0]! & mask[0]!) >>> 0) === net[0] &&
        ((a[1]! & mask[1]!) >>> 0) === net[1] &&
        ((a[2]! & mask[2]!) >>> 0) === net[2] &&
        ((a[3]! & mask[3]!) >>> 0) === net[3]
      ) {
        return true;
      }
    }
    return false;
  }
}
