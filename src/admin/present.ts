// JSON shaping for the admin API: store records (camelCase, epoch ms) → API objects (snake_case,
// ISO-8601 times). The field names here are the contract: extend, never rename.
import { ERRORS } from '../errors.js';
import { DEFAULT_POSTURE_MAX_AGE_MS } from '../policy/device-selectors.js';
import { presentBoundDevice } from './present-device.js';
import type { Decision, DeviceFacts, Identity, PolicyExplanation } from '../policy/types.js';
import type { AppActivity, DecisionRecord, IdentityChange, SessionRecord, UserSummary } from '../store/types.js';

export function iso(ms: number): string;
export function iso(ms: number | null | undefined): string | null;
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** Usable right now: not revoked and not expired (app cut-offs are per app, see /admin/apps). */
export function isActive(s: SessionRecord, now = Date.now()): boolean {
  return s.revokedAt === null && s.expiresAt > now;
}

export function sessionStatus(s: SessionRecord, now = Date.now()): 'active' | 'revoked' | 'expired' {
  return s.revokedAt !== null ? 'revoked' : s.expiresAt <= now ? 'expired' : 'active';
}

/** The list shape: `apps` are the names of the apps the session reached (when the query knows them). */
export function presentSession(s: SessionRecord & { apps?: string[] }, now = Date.now()) {
  return {
    id: s.id,
    kind: s.kind,
    user_id: s.userId,
    email: s.email,
    name: s.name,
    idp: s.idp,
    issuer: s.issuer,
    groups: s.groups,
    auth_methods: s.amr,
    issued_at: iso(s.issuedAt),
    expires_at: iso(s.expiresAt),
    first_seen_at: iso(s.firstSeenAt),
    last_seen_at: iso(s.lastSeenAt),
    ...(s.apps ? { apps: s.apps } : {}),
    client_ip: s.network.lastIp ?? s.network.loginIp,
    country: s.network.loginCountry,
    device: presentDevice(s),
    status: sessionStatus(s, now),
    active: isActive(s, now),
    revoked_at: iso(s.revokedAt),
    revoked_by: s.revokedBy,
    revoke_reason: s.revokeReason,
  };
}

/** The full identity policies evaluate, as recorded. */
export function presentIdentity(s: SessionRecord) {
  return {
    kind: s.kind,
    sub: s.userId,
    email: s.email,
    name: s.name,
    groups: s.groups,
    idp: s.idp,
    amr: s.amr,
    auth_methods: s.amr,
    issuer: s.issuer,
    claims: s.claims,
  };
}

export function presentNetwork(s: SessionRecord) {
  const n = s.network;
  return {
    login_ip: n.loginIp,
    login_user_agent: n.loginUserAgent,
    login_country: n.loginCountry,
    last_ip: n.lastIp,
    last_user_agent: n.lastUserAgent,
  };
}

export function presentDevice(s: SessionRecord) {
  if (!s.device) return null;
  return { cert_subject: s.device.certSubject ?? null, cert_fingerprint: s.device.certFingerprint ?? null };
}

export function presentActivity(a: AppActivity) {
  return {
    app: a.app,
    first_seen_at: iso(a.firstSeenAt),
    last_seen_at: iso(a.lastSeenAt),
    request_count: a.count,
    last_path: a.lastPath,
  };
}

export function presentRevocation(s: SessionRecord) {
  return s.revokedAt === null ? null : { revoked_at: iso(s.revokedAt), revoked_by: s.revokedBy, reason: s.revokeReason };
}

/** One session in full: identity, network, device, per-app activity, revocation, recent decisions. */
export function presentSessionDetail(s: SessionRecord, activity: AppActivity[], decisions: DecisionRecord[], now = Date.now()) {
  return {
    ...presentSession(s, now),
    apps: activity.map(presentActivity),
    identity: presentIdentity(s),
    network: presentNetwork(s),
    device: presentDevice(s),
    revocation: presentRevocation(s),
    decisions: decisions.map(presentDecision),
  };
}

/** One session's identity history (GET /admin/sessions/{id}): newest first. */
export function presentSessionIdentity(s: SessionRecord, history: IdentityChange[], postureMaxAgeMs = DEFAULT_POSTURE_MAX_AGE_MS) {
  const bound = (s.liveState as { boundDevice?: DeviceFacts } | null | undefined)?.boundDevice;
  return { identity_version: s.identityVersion ?? 0, identity_history: history.map(presentIdentityChange), bound_device: presentBoundDevice(bound, postureMaxAgeMs) };
}

export function presentDecision(d: DecisionRecord) {
  return {
    request_id: d.requestId,
    time: iso(d.time),
    app: d.app || null,
    status: recordedStatus(d),
    email: d.email,
    outcome: d.outcome,
    policy: d.policy,
    reason: d.reason,
    reasons: d.reasons,
    session_id: d.sessionId,
    method: d.method,
    host: d.host,
    path: d.path,
    client_ip: d.clientIp,
    config_hash: d.configHash,
    identity_version: d.identityVersion ?? null,
  };
}

/** The status the client got, where the decision determines it (null: the upstream answered). */
function recordedStatus(d: DecisionRecord): number | null {
  switch (d.outcome) {
    case 'deny':
      return 403;
    case 'unauthenticated':
      return 401;
    case 'not_found':
    case 'error':
      return (ERRORS as Record<string, { status: number } | undefined>)[d.reason]?.status ?? 500;
    default:
      return null;
  }
}

export function presentUser(u: UserSummary) {
  return { email: u.email, name: u.name, active_sessions: u.activeSessions, last_seen_at: iso(u.lastSeenAt) };
}

/** "groups +admins -interns, claims changed: department" (without the date). */
export function describeChange(change: IdentityChange['change']): string {
  const parts: string[] = [];
  if (change.groups) {
    const g = [...change.groups.added.map((x) => `+${x}`), ...change.groups.removed.map((x) => `-${x}`)];
    if (g.length) parts.push(`groups ${g.join(' ')}`);
  }
  if (change.claims?.changed.length) parts.push(`claims changed: ${change.claims.changed.join(', ')}`);
  if (change.amr) parts.push(`auth methods ${change.amr.before.join(',') || '-'} → ${change.amr.after.join(',') || '-'}`);
  if (change.revoked) parts.push(`revoked (${change.revoked.reason})`);
  if (change.device) parts.push(`device ${change.device.id} ${change.device.before ?? 'unknown'} → ${change.device.after}`);
  if (change.boundDevice) parts.push(describeDeviceChange(change.boundDevice));
  return parts.join('; ') || 'identity changed';
}

function describeDeviceChange(d: NonNullable<IdentityChange['change']['boundDevice']>): string {
  if (d.before !== d.after) return d.after ? `device ${d.after} bound` : `device ${d.before ?? ''} unbound`;
  const what = [...(d.posture?.length ? [`posture ${d.posture.join(', ')}`] : []), ...(d.approved !== undefined ? [d.approved ? 'approved' : 'unapproved'] : [])];
  return `device ${d.after ?? ''} ${what.join('; ') || 'verified again'}`;
}

/** Structured change plus a human summary: "groups +admins since 2026-11-20". */
export function presentIdentityChange(c: IdentityChange) {
  return {
    time: iso(c.time),
    session_id: c.sessionId,
    groups: c.change.groups ?? null,
    claims_changed: c.change.claims?.changed ?? [],
    summary: `${describeChange(c.change)} since ${iso(c.time).slice(0, 10)}`,
    source: c.source ?? 'login',
    version: c.version ?? null,
    event_id: c.eventId ?? null,
    ...(c.change.amr ? { auth_methods: c.change.amr } : {}),
    ...(c.change.revoked ? { revoked: c.change.revoked } : {}),
    ...(c.change.device ? { device: c.change.device } : {}),
    ...(c.change.boundDevice ? { bound_device: c.change.boundDevice } : {}),
  };
}

export function presentExplanation(e: PolicyExplanation) {
  return {
    policy: e.policy,
    action: e.action,
    matched: e.matched,
    evaluated: e.evaluated,
    ...(e.note !== undefined ? { note: e.note } : {}),
    rules: e.rules.map((r) => ({ clause: r.clause, index: r.index, selector: r.selector, matched: r.matched, reason: r.reason })),
  };
}

/** What the gateway would answer with this decision: forwarded (200 from the app), 401 or 403. */
export function decisionStatus(d: Decision, identity: Identity | null): number {
  if (d.outcome !== 'deny') return 200;
  return identity === null && d.reason === 'no_policy_matched' ? 401 : 403;
}

export function presentDecisionResult(d: Decision, identity: Identity | null) {
  return {
    outcome: d.outcome,
    policy: d.policy,
    action: d.action,
    reason: d.reason,
    reasons: d.reasons,
    status: decisionStatus(d, identity),
    explanation: d.explanation.map(presentExplanation),
  };
}
