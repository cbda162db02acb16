// OpenID Connect Back-Channel Logout 1.0: POST /.gatehouse/backchannel-logout/{provider id}, sent by
// the IdP (server to server) when a user signs out there or is signed out by an admin. The
// logout_token is checked exactly as the spec's section 2.6 says — signature by the provider's JWKS,
// iss, aud = our client id, iat recent, the back-channel logout event, sid and/or sub, no nonce —
// and its jti is taken once in the shared store (a replay is refused on every instance). Then a
// `sid` revokes the sessions that IdP session started (with `sub` too: only those of that subject);
// `sub` alone revokes every session of that subject at that provider. 200 on success, 400 (with a JSON error) otherwise, never cached.
// Every refusal is logged with its reason and counted; nothing changes on a refusal.
import type { ServerResponse } from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { RequestContext } from '../context.js';
import type { Logger } from '../log.js';
import type { IdentityChanges } from '../identity/changes.js';
import type { EventStore } from '../store/event-types.js';
import { readForm } from './form-body.js';
import { OidcProvider } from './oidc.js';
import type { ProviderRegistry } from './providers.js';

export const BACKCHANNEL_PREFIX = '/.gatehouse/backchannel-logout/';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How old a logout token may be (by its iat), and how far the two clocks may disagree. */
const MAX_AGE_SEC = 300;
const CLOCK_SKEW_SEC = 60;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface BackchannelDeps {
  logger: Logger;
  registry: ProviderRegistry;
  changes: IdentityChanges;
  events: Pick<EventStore, 'firstSeen'>;
  counted(outcome: 'accepted' | 'refused', reason: string): void;
}

type Checked = { ok: true; jti: string; iat: number; sid: string | null; sub: string | null } | { ok: false; reason: string; detail: string };

/** One remote key set per provider object (a changed provider config is a new object). */
const keySets = new WeakMap<OidcProvider, ReturnType<typeof createRemoteJWKSet>>();

async function keysOf(p: OidcProvider): Promise<ReturnType<typeof createRemoteJWKSet>> {
  let keys = keySets.get(p);
  if (!keys) {
    const uri = (await p.configuration()).serverMetadata().jwks_uri;
    if (!uri) throw new Error('the provider publishes no jwks_uri');
    keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    keySets.set(p, keys);
  }
  return keys;
}

function joseReason(err: unknown): { reason: string; detail: string } {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.JWTClaimValidationFailed) return { reason: `bad_${err.claim}`, detail: `${err.claim}: ${detail}` };
  if (err instanceof errors.JWTExpired) return { reason: 'expired', detail };
  if (err instanceof errors.JWSSignatureVerificationFailed) return { reason: 'bad_signature', detail };
  if (err instanceof errors.JWKSNoMatchingKey) return { reason: 'unknown_key', detail };
  if (err instanceof errors.JOSEAlgNotAllowed) return { reason: 'alg_not_allowed', detail };
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return { reason: 'malformed', detail };
  return { reason: 'keys_unavailable', detail: `the provider's keys could not be fetched: ${detail}` };
}

/** Section 2.6, in order; nothing is trusted before the signature is. */
export async function checkLogoutToken(p: OidcProvider, token: string): Promise<Checked> {
  let payload: JWTPayload;
  try {
    const verified = await jwtVerify(token, await keysOf(p), {
      issuer: p.cfg.issuer ?? '',
      audience: p.cfg.clientId ?? '',
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_SEC,
      maxTokenAge: MAX_AGE_SEC,
    });
    payload = verified.payload;
    const typ = verified.protectedHeader.typ?.toLowerCase();
    // Explicit typing (logout+jwt) when present: an ID token or another JWT is not a logout token.
    if (typ !== undefined && typ !== 'logout+jwt' && typ !== 'application/logout+jwt' && typ !== 'jwt') return { ok: false, reason: 'bad_typ', detail: `typ ${typ} is not logout+jwt` };
  } catch (err) {
    return { ok: false, ...joseReason(err) };
  }
  const events = payload.events as Record<string, unknown> | undefined;
  if (!events || typeof events !== 'object' || typeof events[EVENT] !== 'object' || events[EVENT] === null) {
    return { ok: false, reason: 'bad_events', detail: `events must contain ${EVENT}` };
  }
  if ('nonce' in payload) return { ok: false, reason: 'nonce_present', detail: 'a logout token must not contain nonce' };
  const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : null;
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : null;
  if (!sid && !sub) return { ok: false, reason: 'no_sid_or_sub', detail: 'a logout token names sid, sub or both' };
  if (typeof payload.jti !== 'string' || payload.jti === '') return { ok: false, reason: 'no_jti', detail: 'jti is missing' };
  return { ok: true, jti: payload.jti, iat: payload.iat as number, sid, sub };
}

function answer(ctx: RequestContext, res: ServerResponse, status: 200 | 400 | 404 | 405, error?: { code: string; detail: string }): void {
  const body = error ? JSON.stringify({ error: error.code, error_description: error.detail }) : '';
  ctx.status = status;
  ctx.bytes = Buffer.byteLength(body);
  res.writeHead(status, {
    'cache-control': 'no-store',
    'x-request-id': ctx.requestId,
    ...(status === 405 ? { allow: 'POST' } : {}),
    ...(error ? { 'content-type': 'application/json' } : {}),
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function backchannelLogout(d: BackchannelDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const id = ctx.path.slice(BACKCHANNEL_PREFIX.length);
  const provider = d.registry.get(ctx.config, id);
  const refuse = (status: 400 | 404 | 405, reason: string, detail: string, extra: Record<string, unknown> = {}) => {
    d.logger.warn({ requestId: ctx.requestId, idp: id, reason, detail, ...extra }, 'back-channel logout refused');
    d.counted('refused', reason);
    answer(ctx, res, status, { code: status === 400 ? 'invalid_request' : status === 404 ? 'not_found' : 'method_not_allowed', detail });
  };
  if (!(provider instanceof OidcProvider) || !provider.cfg.backchannelLogout) {
    ctx.req.resume();
    return refuse(404, 'unknown_provider', `no OIDC provider "${id}" with backchannel_logout: true`);
  }
  if (ctx.req.method !== 'POST') {
    ctx.req.resume();
    return refuse(405, 'method', 'use POST');
  }
  const form = await readForm(ctx.req);
  if (!form.ok) return refuse(400, 'bad_body', 'the body must be application/x-www-form-urlencoded with logout_token (at most 8 KiB)');
  const token = form.fields.get('logout_token');
  if (!token) return refuse(400, 'no_logout_token', 'logout_token is missing');
  const checked = await checkLogoutToken(provider, token);
  if (!checked.ok) return refuse(400, checked.reason, checked.detail);
  const now = Date.now();
  const keepUntil = (checked.iat + MAX_AGE_SEC + 2 * CLOCK_SKEW_SEC) * 1000;
  if (!(await d.events.firstSeen(`backchannel:${provider.id}`, checked.jti, keepUntil, now))) {
    return refuse(400, 'replayed', 'this logout token (jti) was received before', { jti: checked.jti });
  }
  // sid (and sub, when both are named: only that subject's sessions of that IdP session), else sub alone.
  const match = checked.sid
    ? { provider: provider.id, sid: checked.sid, ...(checked.sub ? { subject: checked.sub } : {}) }
    : { issuer: provider.cfg.issuer ?? '', subject: checked.sub ?? '' };
  let revoked: string[];
  try {
    revoked = await d.changes.revoke(match, 'backchannel', 'idp_logout', checked.jti);
  } catch (err) {
    // The spec's answer for a logout that failed is 400 too; the IdP shows it to its admin.
    d.logger.error({ err, requestId: ctx.requestId, idp: provider.id, jti: checked.jti }, 'back-channel logout: the revocation could not be written');
    return refuse(400, 'store_unavailable', 'the sessions could not be revoked now');
  }
  d.logger.info({ requestId: ctx.requestId, idp: provider.id, jti: checked.jti, by: checked.sid ? (checked.sub ? 'sid+sub' : 'sid') : 'sub', sessions: revoked.length }, 'back-channel logout');
  d.counted('accepted', checked.sid ? 'sid' : 'sub');
  answer(ctx, res, 200);
}
