// Builders for auth tests: a typed GatewayConfig, issuer configs, real keys and real (possibly
// hostile) tokens, and a JWKS served by a real node:http server on 127.0.0.1:0.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type KeyObject, type JWTPayload } from 'jose';
import type { GatewayConfig, ServiceTokenConfig, TokenIssuerConfig } from '../../src/config/types.js';
import type { IpMatcher } from '../../src/policy/ip.js';

export type Tap = { teardown(fn: () => unknown): void };

export function gatewayConfig(over: {
  tokenIssuers?: TokenIssuerConfig[];
  serviceTokens?: ServiceTokenConfig[];
  cache?: Partial<GatewayConfig['session']['cache']>;
  cookie?: string;
} = {}): GatewayConfig {
  return {
    file: '/dev/null/gateway.yaml',
    hash: 'test',
    loadedAt: new Date(),
    listen: { host: '127.0.0.1', port: 0 },
    publicScheme: 'http',
    workers: 1,
    trustedProxies: {} as IpMatcher,
    limits: {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxHeaderSize: 16_384,
      maxConnections: 1000,
      minBodyRate: 1024,
      maxInFlightPerIp: 64,
      drainTimeoutMs: 1000,
      drainDelayMs: 0,
    },
    admin: { listen: { host: '127.0.0.1', port: 0 } },
    scim: { groups: 'merge' },
    session: {
      cookie: over.cookie ?? 'gatehouse_session',
      keysFile: '/dev/null/keys.json',
      durationMs: 12 * 3600_000,
      secureCookie: false,
      cache: { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, maxTtlMs: 5 * 60_000, ...over.cache },
    },
    store: { queueLimit: 1000 },
    appsDir: '/dev/null/apps',
    logLevel: 'silent',
    audit: { recordAllowed: 'aggregate', retentionMs: 86_400_000, redactClaims: [] },
    tokenIssuers: over.tokenIssuers ?? [],
    serviceTokens: over.serviceTokens ?? [],
    identityProviders: [],
    ssfReceivers: [],
    login: { lockoutThreshold: 5, lockoutWindowMs: 60_000, lockoutDurationMs: 60_000 },
    apps: [],
  };
}

export function issuerConfig(over: Partial<TokenIssuerConfig> & { issuer: string }): TokenIssuerConfig {
  return {
    audience: ['gatehouse'],
    algorithms: ['ES256'],
    groupsClaim: 'groups',
    emailClaim: 'email',
    clockToleranceSec: 0,
    jwksCooldownMs: 30_000,
    ...over,
  };
}

export interface TestKey {
  privateKey: CryptoKey | KeyObject;
  publicJwk: JWK;
  kid: string;
}

/** A fresh ES256 key pair with kid = thumbprint; the public JWK carries kid, alg and use. */
export async function testKey(alg = 'ES256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, kid, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** A real signed token: sensible claims by default, each overridable (undefined deletes it). */
export async function signToken(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const base: JWTPayload = { sub: 'user-1', aud: 'gatehouse', iat: nowSec(), exp: nowSec() + 600 };
  const payload: Record<string, unknown> = { ...base, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: (key.publicJwk.alg as string) ?? 'ES256', kid: key.kid, ...header })
    .sign(key.privateKey);
}

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A token assembled by hand (for shapes jose refuses to produce). */
export function rawToken(header: unknown, payload: unknown, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export interface JwksServer {
  url: string;
  port: number;
  requests: number;
  /** What the server answers: a JWKS, or a status code to fail with. */
  respond: { keys: JWK[] } | number;
  /** Milliseconds to wait before answering. */
  delayMs: number;
  stop(): Promise<void>;
}

export async function startJwksServer(t: Tap, keys: JWK[]): Promise<JwksServer> {
  const state: JwksServer = {
    url: '',
    port: 0,
    requests: 0,
    respond: { keys },
    delayMs: 0,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    state.requests++;
    setTimeout(() => {
      if (res.destroyed) return;
      if (typeof state.respond === 'number') {
        res.writeHead(state.respond).end('error');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.respond));
    }, state.delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}/jwks.json`;
  t.teardown(() => (server.listening ? state.stop() : undefined));
  return state;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
