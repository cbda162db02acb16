// The credential parts of gateway.yaml: token_issuers, service_tokens and identity_providers.
import { access } from 'node:fs/promises';
import type { IdentityProviderFile, ServiceTokenFile, TokenIssuerFile } from './schema.js';
import { ioReason, type Scope } from './scope.js';
import type { IdentityProviderConfig, ServiceTokenConfig, TokenIssuerConfig } from './types.js';

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const MIN_SECRET_BYTES = 32;

export const ISSUER_DEFAULTS = { groupsClaim: 'groups', emailClaim: 'email', clockToleranceMs: 30_000, jwksCooldownMs: 30_000 };
export const OIDC_DEFAULT_SCOPES = ['openid', 'email', 'profile'];

export async function resolveTokenIssuers(list: TokenIssuerFile[], s: Scope): Promise<TokenIssuerConfig[]> {
  const out: TokenIssuerConfig[] = [];
  const seen = new Map<string, number>();
  for (const [i, t] of list.entries()) {
    const at = ['token_issuers', i];
    if (!s.ok(...at)) continue;
    if (seen.has(t.issuer)) s.problem([...at, 'issuer'], `issuer "${t.issuer}" is already configured in token_issuers[${seen.get(t.issuer)}]`);
    seen.set(t.issuer, i);

    const sources = (['jwks', 'jwks_uri', 'secret'] as const).filter((k) => t[k] !== undefined);
    if (sources.length !== 1) {
      s.problem(at, sources.length ? `set exactly one of jwks, jwks_uri or secret (found ${sources.join(' and ')})` : 'set one of jwks (a file), jwks_uri (a URL) or secret (HMAC)');
    }
    algorithmProblems(s, [...at, 'algorithms'], t);
    if (t.secret !== undefined && Buffer.byteLength(t.secret, 'utf8') < MIN_SECRET_BYTES) {
      s.problem([...at, 'secret'], `must be at least ${MIN_SECRET_BYTES} bytes (it is ${Buffer.byteLength(t.secret, 'utf8')})`);
    }
    if (t.jwks_uri !== undefined) s.httpsUrl([...at, 'jwks_uri'], t.jwks_uri);
    const jwksFile = t.jwks === undefined ? undefined : s.path(t.jwks);
    if (jwksFile) {
      await access(jwksFile).catch((err: unknown) => s.problem([...at, 'jwks'], `cannot read ${jwksFile}: ${ioReason(err)}`));
    }
    out.push({
      issuer: t.issuer,
      ...(jwksFile ? { jwksFile } : {}),
      ...(t.jwks_uri !== undefined ? { jwksUri: t.jwks_uri } : {}),
      ...(t.secret !== undefined ? { secret: t.secret } : {}),
      audience: typeof t.audience === 'string' ? [t.audience] : t.audience,
      algorithms: t.algorithms,
      groupsClaim: t.groups_claim ?? ISSUER_DEFAULTS.groupsClaim,
      emailClaim: t.email_claim ?? ISSUER_DEFAULTS.emailClaim,
      clockToleranceSec: s.ms(t.clock_tolerance, ISSUER_DEFAULTS.clockToleranceMs) / 1000,
      jwksCooldownMs: s.ms(t.jwks_cooldown, ISSUER_DEFAULTS.jwksCooldownMs),
    });
  }
  return out;
}

function algorithmProblems(s: Scope, at: Array<string | number>, t: TokenIssuerFile): void {
  const hmac = t.algorithms.filter((a) => HMAC_ALGS.includes(a));
  const asym = t.algorithms.filter((a) => ASYMMETRIC_ALGS.includes(a));
  t.algorithms.forEach((a, j) => {
    if (a.toLowerCase() === 'none') s.problem([...at, j], '"none" is never accepted (unsigned tokens)');
    else if (!hmac.includes(a) && !asym.includes(a)) {
      s.problem([...at, j], `unknown algorithm "${a}" (one of ${[...ASYMMETRIC_ALGS, ...HMAC_ALGS].join(', ')})`);
    }
  });
  if (hmac.length && asym.length) {
    s.problem(at, `${hmac.join(', ')} cannot be combined with ${asym.join(', ')} in one issuer (a public key must never verify as an HMAC secret)`);
  } else if (hmac.length && t.secret === undefined) {
    s.problem(at, `${hmac.join(', ')} needs secret`);
  } else if (asym.length && t.jwks === undefined && t.jwks_uri === undefined) {
    s.problem(at, `${asym.join(', ')} needs jwks or jwks_uri`);
  }
  if (t.secret !== undefined && asym.length && !hmac.length) s.problem([...at.slice(0, 2), 'secret'], 'works only with HS256, HS384 or HS512');
}

export function resolveServiceTokens(list: ServiceTokenFile[], s: Scope): ServiceTokenConfig[] {
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  const out: ServiceTokenConfig[] = [];
  for (const [i, t] of list.entries()) {
    if (!s.ok('service_tokens', i)) continue;
    if (names.has(t.name)) s.problem(['service_tokens', i, 'name'], `name "${t.name}" is already used by service_tokens[${names.get(t.name)}]`);
    if (ids.has(t.client_id)) s.problem(['service_tokens', i, 'client_id'], `client_id "${t.client_id}" is already used by service_tokens[${ids.get(t.client_id)}]`);
    names.set(t.name, i);
    ids.set(t.client_id, i);
    out.push({
      name: t.name,
      clientId: t.client_id,
      secretHash: t.secret_hash,
      ...(t.expires_at !== undefined ? { expiresAt: Date.parse(t.expires_at) } : {}),
    });
  }
  return out;
}

const OIDC_ONLY = ['issuer', 'client_id', 'client_secret', 'scopes', 'end_session', 'backchannel_logout', 'refresh', 'refresh_max_stale'] as const;
const REFRESH_MAX_STALE_MS = 3_600_000;

export function resolveIdentityProviders(list: IdentityProviderFile[], s: Scope): IdentityProviderConfig[] {
  const ids = new Map<string, number>();
  const out: IdentityProviderConfig[] = [];
  for (const [i, p] of list.entries()) {
    const at = ['identity_providers', i];
    if (!s.ok(...at)) continue;
    if (ids.has(p.id)) s.problem([...at, 'id'], `id "${p.id}" is already used by identity_providers[${ids.get(p.id)}]`);
    ids.set(p.id, i);
    if (p.type === 'oidc') {
      const missing = (['issuer', 'client_id', 'client_secret'] as const).filter((k) => !p[k]);
      if (missing.length) s.problem(at, `an oidc provider needs ${missing.join(', ')}`);
      if (p.issuer) s.httpsUrl([...at, 'issuer'], p.issuer);
      if (p.file !== undefined) s.problem([...at, 'file'], 'applies only to local_users providers', 'key');
      if (p.scopes && !p.scopes.includes('openid')) s.problem([...at, 'scopes'], 'must include openid');
      for (const k of ['refresh', 'refresh_max_stale'] as const) if (p[k] !== undefined && s.ms(p[k], 1) === 0) s.problem([...at, k], 'must be more than 0');
    } else {
      if (!p.file) s.problem(at, 'a local_users provider needs file (the users file)');
      for (const k of OIDC_ONLY) if (p[k] !== undefined) s.problem([...at, k], 'applies only to oidc providers', 'key');
    }
    out.push({
      id: p.id,
      type: p.type,
      name: p.name ?? p.id,
      ...(p.issuer ? { issuer: p.issuer } : {}),
      ...(p.client_id ? { clientId: p.client_id } : {}),
      ...(p.client_secret ? { clientSecret: p.client_secret } : {}),
      scopes: p.scopes ?? (p.type === 'oidc' ? OIDC_DEFAULT_SCOPES : []),
      groupsClaim: p.groups_claim ?? 'groups',
      endSession: p.end_session ?? true,
      backchannelLogout: p.backchannel_logout ?? false,
      ...(p.refresh !== undefined ? { refreshMs: s.ms(p.refresh, 0) } : {}),
      refreshMaxStaleMs: s.ms(p.refresh_max_stale, REFRESH_MAX_STALE_MS),
      ...(p.file ? { file: s.path(p.file) } : {}),
    });
  }
  return out;
}
