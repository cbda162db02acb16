// The gateway's own signing keys: a JWKS file of private keys (`session.keys`). The newest active key
// (last in the file) signs sessions and upstream assertions; every key in the file verifies, so a
// rotation (`gatehouse keys generate --rotate`) logs nobody out. A rotated key may carry
// `activates_at` (epoch seconds): until then it only verifies, so the file can reach every instance
// before any of them signs with the new key. The file is created on first start.
import { createPrivateKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type CryptoKey as JoseCryptoKey,
} from 'jose';

/** Algorithms the gateway can sign with (asymmetric only: apps verify with the published JWKS). */
export const SIGNING_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A key resolver in jose's shape (what createLocalJWKSet returns). */
export type KeyResolver = (protectedHeader?: JWSHeaderParameters, token?: FlattenedJWSInput) => Promise<JoseCryptoKey | KeyObject>;

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** Private key, usable by jose (async) and by node:crypto (sync, see assertion.ts). */
  key: KeyObject;
}

export interface KeySet {
  /** Absolute path the set was loaded from. */
  file: string;
  /** The newest active key: signs everything the gateway issues. */
  signingKey: SigningKey;
  /** Every key of the file (private parts), in file order: sealed sign-in state opens with any. */
  privateKeys: SigningKey[];
  /** Epoch ms when a key that only verifies now starts signing (reload then), or null. */
  nextActivation: number | null;
  /** Resolves any key of the set by kid/alg — public parts only. */
  verifyKeys: KeyResolver;
  /** Distinct algorithms in the set: the gateway issuer's pinned `algorithms`. */
  algorithms: SigningAlgorithm[];
  /** Public JWKS for /.gatehouse/certs. */
  publicJwks: { keys: JWK[] };
}

// Members that make a JWK private; stripped for publication.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;
/** When a rotated key starts signing (epoch seconds); not published. */
const ACTIVATES_AT = 'activates_at';

export function publicPart(jwk: JWK): JWK {
  const pub: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete pub[m];
  delete pub.key_ops;
  delete pub[ACTIVATES_AT];
  return pub as JWK;
}

export function isSigningAlg(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(alg);
}

/** Reads a key file; returns null when it does not exist. Throws on anything malformed. */
export async function readKeyFile(file: string): Promise<JWK[] | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not JSON (expected a JWKS of private keys)`);
  }
  const keys = (parsed as JSONWebKeySet | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${file}: expected {"keys": [...]} with at least one key`);
  keys.forEach((k, i) => {
    if (!k || typeof k !== 'object' || typeof k.kid !== 'string' || !isSigningAlg(k.alg) || typeof k.d !== 'string') {
      throw new Error(`${file}: key ${i} must be a private JWK with "kid" and an "alg" in ${SIGNING_ALGORITHMS.join(', ')}`);
    }
    const at = (k as Record<string, unknown>)[ACTIVATES_AT];
    if (at !== undefined && !Number.isSafeInteger(at)) throw new Error(`${file}: key ${i}: "${ACTIVATES_AT}" must be epoch seconds`);
  });
  return keys as JWK[];
}

const activatesAt = (k: JWK): number => Number((k as Record<string, unknown>)[ACTIVATES_AT] ?? 0) * 1000;

function signingKeyOf(k: JWK): SigningKey {
  const { [ACTIVATES_AT]: _at, ...jwk } = k as Record<string, unknown>;
  return { kid: k.kid as string, alg: k.alg as SigningAlgorithm, key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) };
}

/** Builds the in-memory KeySet from private JWKs (newest last), with the key that signs at `now`. */
export function keySetFromJwks(file: string, keys: JWK[], now = Date.now()): KeySet {
  if (keys.length === 0) throw new Error(`${file}: no keys`);
  const privateKeys = keys.map(signingKeyOf);
  // The newest key already active; the oldest when none is (a file of only future keys still signs).
  const active = keys.findLastIndex((k) => activatesAt(k) <= now);
  const pending = keys.map(activatesAt).filter((at) => at > now);
  const publicKeys = keys.map(publicPart);
  const algorithms = [...new Set(keys.map((k) => k.alg as SigningAlgorithm))];
  return {
    file,
    signingKey: privateKeys[Math.max(0, active)] as SigningKey,
    privateKeys,
    nextActivation: pending.length > 0 ? Math.min(...pending) : null,
    verifyKeys: createLocalJWKSet({ keys: publicKeys }),
    algorithms,
    publicJwks: { keys: publicKeys },
  };
}

/** A fresh private JWK with kid = its RFC 7638 thumbprint, alg and use set. */
export async function generateJwk(alg: SigningAlgorithm = 'ES256'): Promise<JWK> {
  const opts = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true, modulusLength: 3072 };
  const { privateKey } = await generateKeyPair(alg, opts);
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicPart(jwk));
  return { ...jwk, kid, alg, use: 'sig' };
}

function serialise(keys: JWK[]): string {
  return JSON.stringify({ keys }, null, 2) + '\n';
}

// Written beside the target and moved into place, so a reader never sees half a file.
async function writeTemp(file: string, keys: JWK[]): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, serialise(keys), { mode: 0o600, flag: 'wx' });
  return tmp;
}

/** Reads an existing key file again (a reload: a rotated copy, or a key whose time has come). */
export async function loadKeySet(file: string, now = Date.now()): Promise<KeySet> {
  const keys = await readKeyFile(file);
  if (!keys) throw new Error(`${file}: not found`);
  return keySetFromJwks(file, keys, now);
}

/**
 * Loads the key file, creating it (one ES256 key, mode 0600) when absent. Safe when several workers
 * start at once: creation links the new file into place, so exactly one writer wins and the others
 * read its keys.
 */
export async function loadOrCreateKeySet(file: string): Promise<KeySet> {
  const existing = await readKeyFile(file);
  if (existing) return keySetFromJwks(file, existing);
  const tmp = await writeTemp(file, [await generateJwk('ES256')]);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const keys = await readKeyFile(file);
  if (!keys) throw new Error(`${file}: could not be created`);
  return keySetFromJwks(file, keys);
}

/**
 * `gatehouse keys generate`: writes a new key. With append, the new key is added after the existing
 * ones (rotation: it signs from `activateAt` on — epoch ms, default at once — and the old ones keep
 * verifying); without append an existing file is refused rather than silently logging everyone out.
 */
export async function generateKeyFile(
  file: string,
  alg: SigningAlgorithm | string = 'ES256',
  opts: { append?: boolean; activateAt?: number } = {},
): Promise<{ kid: string; keys: number }> {
  if (!isSigningAlg(alg)) throw new Error(`unsupported algorithm ${String(alg)} (use one of ${SIGNING_ALGORITHMS.join(', ')})`);
  const existing = await readKeyFile(file);
  if (existing && !opts.append) throw new Error(`${file} already holds a key set: add a key with --rotate, or give another --out`);
  const jwk: JWK = await generateJwk(alg);
  if (existing && opts.activateAt !== undefined && opts.activateAt > Date.now()) {
    (jwk as Record<string, unknown>)[ACTIVATES_AT] = Math.ceil(opts.activateAt / 1000);
  }
  const keys = [...(existing ?? []), jwk];
  const tmp = await writeTemp(file, keys);
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { kid: jwk.kid as string, keys: keys.length };
}
