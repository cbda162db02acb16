// What the audit keeps of a request: its session (whole on first sight) and, for rejections or with
// audit.record_allowed: all, its decision. Hands them to the batching writer and never waits.
import { loginIdOf } from '../auth/session-token.js';
import { isRouted, type ParserError, type RequestContext, type RoutedContext } from '../context.js';
import type { Rejection } from '../errors.js';
import type { Identity } from '../policy/types.js';
import type { RecordWriter } from './writer.js';
import type { SessionUpsert } from '../store/types.js';
import type { IdentityOverlay } from '../identity/overlay.js';
import { RecentAllowed } from './recent-allowed.js';

export class Recorder {
  /** Allowed requests' ids while they are aggregated (record_allowed: aggregate), for lookups. */
  readonly recentAllowed = new RecentAllowed();

  constructor(
    private readonly writer: RecordWriter,
    /** Live identity versions, so each decision records the version it was made on. */
    private readonly identities?: IdentityOverlay,
  ) {}

  /** An allowed (or bypassed) request. Sessions first seen here are recorded whole. */
  allowed(ctx: RoutedContext): void {
    const identity = ctx.identity;
    const now = Date.now();
    const app = ctx.app.name;
    if (identity) {
      // A fresh verification (cache miss) is the first sight of this token in this process:
      // upsert the session whole; hits only bump the per-app aggregate.
      if (!ctx.cacheHit) this.writer.session(sessionUpsert(identity, ctx, now));
      this.writer.activity(identity.sessionId, app, ctx.path, now);
    }
    if (ctx.config.audit.recordAllowed === 'all') this.decision(ctx, now, null);
    else this.recentAllowed.add(ctx.requestId, app, identity?.sessionId ?? null, now);
  }

  /**
   * Every request answered with an error page, each kept individually: a person may hand its
   * request id to an administrator. 401 and 403 are decisions of the policy; the others (404, 400,
   * 502, 504, 500) are recorded as `not_found` / `error` with their cause.
   */
  rejected(ctx: RequestContext, rej: Rejection): void {
    if (rej.code !== 'unauthenticated' && rej.code !== 'forbidden') return this.failed(ctx, rej);
    if (!isRouted(ctx)) return;
    const now = Date.now();
    // Also on a cache hit: a denied session is still in use (its last-seen time moves), so the
    // background refresh keeps asking the IdP and access comes back when the IdP gives it back.
    if (ctx.identity) this.writer.session(sessionUpsert(ctx.identity, ctx, now));
    this.decision(ctx, now, rej);
  }

  private failed(ctx: RequestContext, rej: Rejection): void {
    const app = ctx.app;
    const who = ctx.identity ?? ctx.revokedIdentity;
    this.writer.decision({
      requestId: ctx.requestId,
      time: Date.now(),
      app: app?.name ?? '',
      sessionId: who?.sessionId ?? null,
      email: who?.email ?? null,
      method: ctx.req.method ?? '',
      host: ctx.host,
      path: ctx.path,
      clientIp: ctx.clientIp,
      outcome: rej.code === 'route_not_found' ? 'not_found' : 'error',
      policy: null,
      reason: rej.code,
      reasons: [failureCause(ctx, rej)],
      configHash: ctx.config.hash,
    });
  }

  /** A request Node's parser refused (400, 408, 431): no app, no session, but a findable id. */
  parserError(e: ParserError, configHash: string): void {
    this.writer.decision({
      requestId: e.requestId,
      time: Date.now(),
      app: '',
      sessionId: null,
      email: null,
      method: e.method,
      host: '',
      path: e.path,
      clientIp: e.clientIp,
      outcome: 'error',
      policy: null,
      reason: e.code,
      reasons: [e.cause],
      configHash,
      identityVersion: null,
    });
  }

  /** A sign-in the IdP accepted but the gateway refused (no session minted): a decision of its own, findable by email. */
  signInRefused(ctx: RequestContext, r: { email: string; idp: string | null; reason: string; detail: string }): void {
    this.writer.decision({
      requestId: ctx.requestId,
      time: Date.now(),
      app: ctx.app?.name ?? '',
      sessionId: null,
      email: r.email,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      clientIp: ctx.clientIp,
      outcome: 'unauthenticated',
      policy: null,
      reason: r.reason,
      reasons: [r.idp ? `${r.detail} (identity provider ${r.idp})` : r.detail],
      configHash: ctx.config.hash,
      identityVersion: null,
    });
  }

  /** Record a session at login (gateway-minted sessions are recorded before first use). */
  session(upsert: SessionUpsert): void {
    this.writer.session(upsert);
  }
  /**
   * A session the gateway mints at sign-in, committed before its cookie is sent: sign-in is rare, so
   * it pays one store transaction (the pending batch with it) instead of the ~100 ms batching window
   * in which a crash would lose it. If the store is down the record stays queued, as every record does.
   */
  async sessionNow(upsert: SessionUpsert): Promise<void> {
    this.writer.session(upsert);
    await this.writer.flush().catch(() => undefined);
  }


  private decision(ctx: RoutedContext, now: number, rej: Rejection | null): void {
    const d = ctx.decision;
    const unauthenticated = rej?.code === 'unauthenticated';
    const who = ctx.identity ?? ctx.revokedIdentity;
    this.writer.decision({
      requestId: ctx.requestId,
      time: now,
      app: ctx.app.name,
      sessionId: who?.sessionId ?? null,
      email: who?.email ?? null,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      clientIp: ctx.clientIp,
      outcome: unauthenticated ? 'unauthenticated' : (d?.outcome ?? 'deny'),
      policy: d?.policy ?? null,
      reason: rej?.reason ?? d?.reason ?? 'unknown',
      reasons: d?.reasons ?? [],
      configHash: ctx.config.hash,
      identityVersion: who ? (this.identities?.version(who.sessionId) ?? 0) : null,
    });
  }
}

/** One readable line: what failed, where, and the upstream's error code. */
function failureCause(ctx: RequestContext, rej: Rejection): string {
  switch (rej.code) {
    case 'route_not_found':
      return `no app serves ${ctx.host || '(no host)'}${ctx.path}`;
    case 'upstream_unavailable':
      return `upstream ${ctx.app?.upstream?.origin ?? '?'}: ${rej.reason}`;
    case 'upstream_timeout':
      return `upstream ${ctx.app?.upstream?.origin ?? '?'}: no answer within timeout ${ctx.app?.timeoutMs ?? '?'} ms (connect_timeout ${ctx.app?.connectTimeoutMs ?? '?'} ms)`;
    case 'internal_error':
      return 'a gateway bug: the log line with this request id has the stack';
    default:
      return rej.message ? `${rej.reason}: ${rej.message}` : rej.reason;
  }
}

export function sessionUpsert(identity: Identity, ctx: RequestContext, now: number): SessionUpsert {
  const ua = ctx.req.headers['user-agent'] ?? null;
  const cert = ctx.facts.certificate;
  return {
    id: identity.sessionId,
    kind: identity.kind,
    userId: identity.subject,
    email: identity.email ?? null,
    name: identity.name ?? null,
    idp: identity.idp ?? null,
    issuer: identity.issuer,
    groups: identity.groups,
    amr: identity.amr,
    claims: redact(identity.claims, ctx.config.audit.redactClaims),
    network: {
      loginIp: ctx.clientIp,
      loginUserAgent: ua,
      loginCountry: ctx.facts.country ?? null,
      lastIp: ctx.clientIp,
      lastUserAgent: ua,
    },
    device: cert?.verified ? { certSubject: cert.subject, certFingerprint: cert.fingerprint } : null,
    issuedAt: identity.issuedAt * 1000,
    expiresAt: identity.expiresAt * 1000,
    firstSeenAt: now,
    lastSeenAt: now,
    loginId: loginIdOf(identity),
  };
}

function redact(claims: Record<string, unknown>, names: string[]): Record<string, unknown> {
  if (names.length === 0) return claims;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) out[k] = names.includes(k) ? '[redacted]' : v;
  return out;
}
