// Row shapes of the SQLite tables and their mapping to/from the store's record types.
import type { AppActivity, DecisionRecord, IdentityChange, SessionRecord, SessionUpsert } from './types.js';

export interface SessionRow {
  id: string;
  kind: SessionRecord['kind'];
  user_id: string;
  email: string | null;
  name: string | null;
  idp: string | null;
  issuer: string;
  groups: string;
  amr: string;
  claims: string;
  login_ip: string | null;
  login_user_agent: string | null;
  login_country: string | null;
  last_ip: string | null;
  last_user_agent: string | null;
  device: string | null;
  issued_at: number;
  expires_at: number;
  first_seen_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

export interface ActivityRow {
  session_id: string;
  app: string;
  first_seen_at: number;
  last_seen_at: number;
  request_count: number;
  last_path: string;
}

export interface DecisionRow {
  id: number;
  request_id: string;
  time: number;
  app: string;
  session_id: string | null;
  email: string | null;
  method: string;
  host: string;
  path: string;
  client_ip: string;
  outcome: DecisionRecord['outcome'];
  policy: string | null;
  reason: string;
  reasons: string;
  config_hash: string;
}

export interface ChangeRow {
  email: string;
  time: number;
  session_id: string;
  change: string;
}

export function sessionFromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    kind: r.kind,
    userId: r.user_id,
    email: r.email,
    name: r.name,
    idp: r.idp,
    issuer: r.issuer,
    groups: JSON.parse(r.groups) as string[],
    amr: JSON.parse(r.amr) as string[],
    claims: JSON.parse(r.claims) as Record<string, unknown>,
    network: {
      loginIp: r.login_ip,
      loginUserAgent: r.login_user_agent,
      loginCountry: r.login_country,
      lastIp: r.last_ip,
      lastUserAgent: r.last_user_agent,
    },
    device: r.device === null ? null : (JSON.parse(r.device) as SessionRecord['device']),
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    revokeReason: r.revoke_reason,
  };
}

/** Named parameters for inserting/touching a session (every column but the revocation ones). */
export function sessionParams(s: SessionUpsert): Record<string, string | number | null> {
  return {
    id: s.id,
    kind: s.kind,
    user_id: s.userId,
    email: s.email ?? null,
    name: s.name ?? null,
    idp: s.idp ?? null,
    issuer: s.issuer,
    groups: JSON.stringify(s.groups ?? []),
    amr: JSON.stringify(s.amr ?? []),
    claims: JSON.stringify(s.claims ?? {}),
    login_ip: s.network?.loginIp ?? null,
    login_user_agent: s.network?.loginUserAgent ?? null,
    login_country: s.network?.loginCountry ?? null,
    last_ip: s.network?.lastIp ?? null,
    last_user_agent: s.network?.lastUserAgent ?? null,
    device: s.device ? JSON.stringify(s.device) : null,
    issued_at: s.issuedAt,
    expires_at: s.expiresAt,
    first_seen_at: s.firstSeenAt,
    last_seen_at: s.lastSeenAt,
  };
}

export function activityFromRow(r: ActivityRow): AppActivity {
  return {
    sessionId: r.session_id,
    app: r.app,
    count: r.request_count,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    lastPath: r.last_path,
  };
}

export function decisionFromRow(r: DecisionRow): DecisionRecord {
  return {
    requestId: r.request_id,
    time: r.time,
    app: r.app,
    sessionId: r.session_id,
    email: r.email,
    method: r.method,
    host: r.host,
    path: r.path,
    clientIp: r.client_ip,
    outcome: r.outcome,
    policy: r.policy,
    reason: r.reason,
    reasons: JSON.parse(r.reasons) as string[],
    configHash: r.config_hash,
  };
}

export function decisionParams(d: DecisionRecord): Array<string | number | null> {
  return [
    d.requestId,
    d.time,
    d.app,
    d.sessionId ?? null,
    d.email ?? null,
    d.method,
    d.host,
    d.path,
    d.clientIp,
    d.outcome,
    d.policy ?? null,
    d.reason,
    JSON.stringify(d.reasons ?? []),
    d.configHash,
  ];
}

export function changeFromRow(r: ChangeRow): IdentityChange {
  return { email: r.email, time: r.time, sessionId: r.session_id, change: JSON.parse(r.change) as IdentityChange['change'] };
}
