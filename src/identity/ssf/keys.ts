// A transmitter's signing keys: its JWKS URL (fetched by auth/remote-jwks.ts, which keeps the last
// good set while the URL is down) or a local JWKS file. The algorithms a SET may use are pinned to
// the key types in the set (RSA → RS*/PS*, EC → the curve's ES*, OKP → EdDSA), or to a key's own
// `alg`: never `none`, never HMAC (a public key must never verify as a shared secret).
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { KeyResolver } from '../../auth/keys.js';
import type { RemoteJwks } from '../../auth/remote-jwks.js';
import type { SsfReceiverConfig } from '../../config/types.js';

const BY_CURVE: Record<string, string[]> = { 'P-256': ['ES256'], 'P-384': ['ES384'], 'P-521': ['ES512'], Ed25519: ['EdDSA', 'Ed25519'] };
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

/** The signature algorithms the keys of this set can verify. */
export function algorithmsFor(jwks: JSONWebKeySet): string[] {
  const out = new Set<string>();
  for (const k of jwks.keys) {
    if (k.kty === 'oct') continue;
    if (typeof k.alg === 'string') {
      if (k.alg !== 'none' && !k.alg.startsWith('HS')) out.add(k.alg);
      continue;
    }
    const algs = k.kty === 'RSA' ? RSA : (BY_CURVE[String(k.crv)] ?? []);
    for (const a of algs) out.add(a);
  }
  return [...out];
}

export interface TransmitterKeys {
  readonly resolver: KeyResolver;
  /** Null while no key set could be had yet (the URL never answered). */
  algorithms(): string[] | null;
  close(): void;
}

/** A remote key set that keeps its last good keys while the URL is down (auth/remote-jwks.ts, handed in by the gateway). */
export type RemoteKeys = Pick<RemoteJwks, 'resolver' | 'keys' | 'start' | 'close'>;
export type RemoteKeysFactory = (issuer: string, url: URL) => RemoteKeys;

/** A local file is read once per config load; a remote set is fetched now and refreshed in the background. */
export async function transmitterKeys(cfg: SsfReceiverConfig, remoteKeys: RemoteKeysFactory): Promise<TransmitterKeys> {
  if (cfg.jwksFile) {
    const jwks = JSON.parse(await readFile(cfg.jwksFile, 'utf8')) as JSONWebKeySet;
    const algorithms = algorithmsFor(jwks);
    return { resolver: createLocalJWKSet(jwks), algorithms: () => algorithms, close: () => undefined };
  }
  const remote = remoteKeys(cfg.issuer, new URL(cfg.jwksUri as string));
  await remote.start();
  let seen: JSONWebKeySet | null = null;
  let algorithms: string[] | null = null;
  return {
    resolver: remote.resolver,
    algorithms: () => {
      const jwks = remote.keys();
      if (jwks !== seen) [seen, algorithms] = [jwks, jwks ? algorithmsFor(jwks) : null];
      return algorithms;
    },
    close: () => remote.close(),
  };
}
