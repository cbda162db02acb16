// Secret hashing for service-token secrets and local users' passwords: scrypt from node:crypto,
// self-describing format `scrypt$N$r$p$saltB64$hashB64` so parameters can be raised later without
// invalidating stored hashes. Verification is constant time and never throws.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** ~60 ms on a current core: costly for a guesser, affordable per login (service tokens are cached). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };

const KEY_LEN = 32;
const SALT_LEN = 16;
// Upper bounds on what a stored hash may ask for, so a tampered file cannot make us allocate GBs.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

function derive(plain: string, salt: Buffer, len: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is too small for N=32768, r=8.
  const opts: ScryptOptions = { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(plain.normalize('NFC'), salt, len, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashSecret(plain: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const hash = await derive(plain, salt, KEY_LEN, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = [parts[1], parts[2], parts[3]].map((s) => (s !== undefined && /^\d{1,8}$/.test(s) ? Number(s) : NaN)) as [number, number, number];
  // N must be a power of two > 1; everything bounded.
  if (!(N > 1 && N <= MAX_N && (N & (N - 1)) === 0)) return null;
  if (!(r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P)) return null;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const hash = Buffer.from(parts[5] ?? '', 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return null;
  return { params: { N, r, p }, salt, hash };
}

/** true when `plain` matches `stored`; false for a mismatch or a malformed hash. Never throws. */
export async function verifySecret(plain: string, stored: string): Promise<boolean> {
  if (typeof plain !== 'string' || typeof stored !== 'string') return false;
  const parsed = parse(stored);
  if (!parsed) return false;
  try {
    const actual = await derive(plain, parsed.salt, parsed.hash.length, parsed.params);
    return timingSafeEqual(actual, parsed.hash);
  } catch {
    return false;
  }
}

/** Whether a string is a hash this module can verify (for the config check). */
export function isSecretHash(stored: string): boolean {
  return parse(stored) !== null;
}
