// Service tokens: machines present `Gatehouse-Client-Id` + `Gatehouse-Client-Secret`, checked
// against `service_tokens:` in gateway.yaml. The client id is compared by SHA-256 digest with
// timingSafeEqual (equal lengths, no early exit), the secret with scrypt (password.ts). The
// authenticator caches successes, so scrypt runs once per credential per cache lifetime, not per request.
//
// Failure codes: an unknown client id and a wrong secret both answer `bad_signature` (the secret
// plays the signature's part; one code for both tells a prober nothing about which ids exist).
// `expired` is reported only after the secret matched, so it is no oracle either.
// An unknown id costs no scrypt: client ids are identifiers, not secrets, and skipping the hash
// keeps a flood of made-up ids from exhausting the thread pool.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServiceTokenConfig } from '../config/types.js';
import type { TokenReason } from '../errors.js';
import type { Identity } from '../policy/types.js';
import { verifySecret } from './password.js';

export const SERVICE_TOKEN_ISSUER = 'service_token';

export type ServiceResult = { ok: true; identity: Identity; notAfter: number } | { ok: false; reason: TokenReason };

interface Entry {
  config: ServiceTokenConfig;
  idDigest: Buffer;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class ServiceTokens {
  private readonly entries: Entry[];
  /** What the set was built from: unchanged on reload means cached identities stay valid. */
  readonly fingerprint: string;

  constructor(tokens: ServiceTokenConfig[], private readonly maxTtlMs: number) {
    this.entries = tokens.map((config) => ({ config, idDigest: digest(config.clientId) }));
    this.fingerprint = JSON.stringify([maxTtlMs, tokens]);
  }

  get size(): number {
    return this.entries.length;
  }

  private find(clientId: string): ServiceTokenConfig | undefined {
    const d = digest(clientId);
    let found: ServiceTokenConfig | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.idDigest)) found ??= e.config;
    }
    return found;
  }

  async verify(clientId: string, secret: string, now = Date.now()): Promise<ServiceResult> {
    if (clientId === '' || secret === '') return { ok: false, reason: 'bad_signature' };
    const token = this.find(clientId);
    if (!token) return { ok: false, reason: 'bad_signature' };
    if (!(await verifySecret(secret, token.secretHash))) return { ok: false, reason: 'bad_signature' };
    if (token.expiresAt !== undefined && token.expiresAt <= now) return { ok: false, reason: 'expired' };
    // Good until the token's own expiry, or for one cache lifetime when it has none.
    const notAfter = Math.min(token.expiresAt ?? Infinity, now + this.maxTtlMs);
    return { ok: true, identity: serviceIdentity(token.name, now, notAfter), notAfter };
  }
}

export function serviceIdentity(name: string, now: number, notAfter: number): Identity {
  const claims = Object.freeze({ sub: name, service_token: name });
  return Object.freeze({
    kind: 'service',
    sessionId: 'svc:' + name,
    subject: name,
    groups: Object.freeze([]) as unknown as string[],
    amr: Object.freeze([]) as unknown as string[],
    issuer: SERVICE_TOKEN_ISSUER,
    serviceToken: name,
    claims,
    issuedAt: Math.floor(now / 1000),
    expiresAt: Math.floor(notAfter / 1000),
  } satisfies Identity);
}
