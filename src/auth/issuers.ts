// Where each issuer's keys come from: the gateway's own KeySet, a local JWKS file, a remote JWKS
// (remote-jwks.ts) or an HMAC secret. Each source also reports its health for /readyz.
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { TokenIssuerConfig } from '../config/types.js';
import type { KeyResolver, KeySet } from './keys.js';
import { describeError, KeysUnavailableError, RemoteJwks, type IssuerStatus } from './remote-jwks.js';
import { GATEWAY_AUDIENCE, GATEWAY_ISSUER, type IssuerRules } from './verify.js';

export interface IssuerSource {
  readonly rules: IssuerRules;
  /** What the source was built from: an unchanged fingerprint on reload means "keep it". */
  readonly fingerprint: string;
  start(): Promise<void>;
  status(): IssuerStatus;
  close(): void;
}

/** Clock tolerance for the gateway's own tokens: only skew between gateway instances matters. */
export const GATEWAY_CLOCK_TOLERANCE_SEC = 5;

export function gatewaySource(keys: KeySet): IssuerSource {
  const since = new Date();
  return {
    rules: {
      issuer: GATEWAY_ISSUER,
      kind: 'session',
      key: keys.verifyKeys,
      algorithms: [...keys.algorithms],
      audience: [GATEWAY_AUDIENCE],
      clockToleranceSec: GATEWAY_CLOCK_TOLERANCE_SEC,
      groupsClaim: 'groups',
      emailClaim: 'email',
    },
    fingerprint: JSON.stringify(keys.publicJwks),
    start: async () => undefined,
    status: () => ({ issuer: GATEWAY_ISSUER, lastSuccess: since, lastError: null, stale: false, ready: true }),
    close: () => undefined,
  };
}

export interface ExternalSourceOptions {
  /** Background refresh period of remote JWKS. */
  jwksRefreshMs?: number;
  /** Per-fetch timeout of remote JWKS. */
  jwksTimeoutMs?: number;
}

function baseRules(cfg: TokenIssuerConfig, key: KeyResolver | Uint8Array): IssuerRules {
  return {
    issuer: cfg.issuer,
    kind: 'token',
    key,
    // `none` can never be allowed, whatever a config says (the config check refuses it too).
    algorithms: cfg.algorithms.filter((a) => a.toLowerCase() !== 'none'),
    audience: [...cfg.audience],
    clockToleranceSec: cfg.clockToleranceSec,
    groupsClaim: cfg.groupsClaim,
    emailClaim: cfg.emailClaim,
  };
}

export function externalSource(cfg: TokenIssuerConfig, opts: ExternalSourceOptions = {}): IssuerSource {
  const fingerprint = JSON.stringify(cfg);

  if (cfg.jwksUri) {
    const remote = new RemoteJwks(cfg.issuer, new URL(cfg.jwksUri), {
      cooldownMs: cfg.jwksCooldownMs,
      refreshIntervalMs: opts.jwksRefreshMs,
      timeoutMs: opts.jwksTimeoutMs,
    });
    return {
      rules: { ...baseRules(cfg, remote.resolver), keysVersion: () => remote.version() },
      fingerprint,
      start: () => remote.start(),
      status: () => remote.status(),
      close: () => remote.close(),
    };
  }

  if (cfg.secret !== undefined) {
    const since = new Date();
    return {
      rules: baseRules(cfg, new TextEncoder().encode(cfg.secret)),
      fingerprint,
      start: async () => undefined,
      status: () => ({ issuer: cfg.issuer, lastSuccess: since, lastError: null, stale: false, ready: true }),
      close: () => undefined,
    };
  }

  // A local JWKS file (or nothing usable: fails closed as keys_unavailable).
  let local: KeyResolver | null = null;
  let lastSuccess: Date | null = null;
  let lastError: string | null = cfg.jwksFile ? null : 'no jwks, jwks_uri or secret configured';
  const resolver: KeyResolver = async (header, token) => {
    if (!local) throw new KeysUnavailableError(cfg.issuer, lastError);
    return local(header, token);
  };
  return {
    rules: { ...baseRules(cfg, resolver), keysVersion: () => local },
    fingerprint,
    async start() {
      if (!cfg.jwksFile) return;
      try {
        const jwks = JSON.parse(await readFile(cfg.jwksFile, 'utf8')) as JSONWebKeySet;
        local = createLocalJWKSet(jwks);
        lastSuccess = new Date();
        lastError = null;
      } catch (err) {
        lastError = `${cfg.jwksFile}: ${describeError(err)}`;
      }
    },
    status: () => ({ issuer: cfg.issuer, lastSuccess, lastError, stale: false, ready: local !== null }),
    close: () => undefined,
  };
}
