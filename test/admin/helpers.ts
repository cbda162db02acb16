// A running gateway with the admin API installed, real SQLite file, and ways to mint real
// gateway session tokens and external-issuer tokens (local JWKS file) for it.
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type KeyObject } from 'jose';
import type { Test } from 'tap';
import { installAdminApi } from '../../src/admin/install.js';
import { mintSessionToken, type MintedSession, type SessionClaims } from '../../src/auth/session-token.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { request, startStack, startUpstream, type Reply, type Stack } from '../helpers/stack.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
process.env.GATEHOUSE_ADMIN_TOKEN = ADMIN_TOKEN;

export const IDP_ISSUER = 'https://idp.example.test';
export const IDP_AUDIENCE = 'gatehouse-api';

/** wiki: contractors denied, staff and admins allowed. docs: every signed-in corp or partner user. */
export function wikiApp(upstream: string): Record<string, unknown> {
  return {
    name: 'wiki',
    hosts: ['wiki.test'],
    upstream,
    show_denial_reasons: true,
    policies: [
      { name: 'no-contractors', action: 'deny', include: [{ group: 'contractors' }] },
      { name: 'staff', action: 'allow', include: [{ group: ['staff', 'admins'] }] },
    ],
  };
}

export function docsApp(upstream: string): Record<string, unknown> {
  return { name: 'docs', hosts: ['docs.test'], upstream, policies: [{ name: 'signed-in', action: 'allow', include: [{ email_domain: ['corp.example', 'partner.example'] }] }] };
}

export interface AdminStack extends Stack {
  idp: { sign(claims: Record<string, unknown>): Promise<string> };
  /** Mints a real gateway session token (as login would). */
  mint(claims: Partial<SessionClaims> & { sub: string }, durationMs?: number): Promise<MintedSession>;
  /** A data-plane request with the token as the session cookie (or as a bearer token). */
  get(host: string, token: string | null, opts?: { path?: string; bearer?: boolean; headers?: Record<string, string> }): Promise<Reply>;
  admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
  /** Starts a second gateway on the same directory (after closing this one): a restart. */
  restart(t: Test): Promise<Gateway>;
}

/** `extend` replaces the default (the admin API alone), e.g. to install login and devices too. */
export async function startAdminStack(
  t: Test,
  extra: { gateway?: Record<string, unknown>; apps?: Record<string, Record<string, unknown>>; files?: Record<string, string>; extend?: (g: Gateway) => Promise<void> | void } = {},
): Promise<AdminStack> {
  const up = await startUpstream(t);
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const s = await startStack(t, {
    apps: { wiki: wikiApp(up.url), docs: docsApp(up.url), ...(extra.apps ?? {}) },
    gateway: {
      token_issuers: [{ issuer: IDP_ISSUER, jwks: './idp.jwks.json', audience: IDP_AUDIENCE, algorithms: ['ES256'] }],
      ...(extra.gateway ?? {}),
    },
    files: { 'idp.jwks.json': JSON.stringify({ keys: [jwk] }), ...(extra.files ?? {}) },
    extend: extra.extend ?? ((g) => installAdminApi(g)),
  });
  return withHelpers(s, privateKey);
}

function withHelpers(s: Stack, idpKey: CryptoKey | KeyObject): AdminStack {
  const as: AdminStack = {
    ...s,
    idp: {
      sign: (claims) => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iat: now, exp: now + 3600, ...claims })
          .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
          .setIssuer(IDP_ISSUER)
          .setAudience(IDP_AUDIENCE)
          .sign(idpKey);
      },
    },
    mint: (claims, durationMs = 3600_000) =>
      mintSessionToken(as.gw.services.keys, { groups: [], idp: 'corp', amr: ['pwd'], ...claims }, durationMs),
    get: (host, token, opts = {}) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (token !== null) {
        if (opts.bearer) headers.authorization = `Bearer ${token}`;
        else headers.cookie = `gatehouse_session=${token}`;
      }
      return request(Number(new URL(as.gw.dataUrl).port), { host, path: opts.path ?? '/', headers });
    },
    admin: async (method, path, body, token = ADMIN_TOKEN) => {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${as.gw.adminUrl}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as never };
    },
    restart: async (t) => {
      await as.gw.close();
      const gw = await Gateway.start({
        configFile: join(s.dir, 'gateway.yaml'),
        logger: silentLogger,
        listen: { data: '127.0.0.1:0', admin: '127.0.0.1:0' },
        extend: (g) => installAdminApi(g),
      });
      t.teardown(() => gw.close());
      as.gw = gw;
      return gw;
    },
  };
  return as;
}

export type Json = Record<string, unknown>;
