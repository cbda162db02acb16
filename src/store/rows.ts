// Rows of the audit tables with their columns decoded (JSON parsed, times as numbers), and their
// mapping to the store's record types — shared by the SQLite and PostgreSQL stores, which differ
// only in how a column arrives (SQLite: JSON text; PostgreSQL: JSONB already parsed).
import type { AppActivity, DecisionRecord, IdentityChange, SessionRecord } from './types.js';

export interface SessionColumns {
  id: string;
  kind: SessionRecord['kind'];
  user_id: string;
  email: string | null;
  name: string | null;
  idp: string | null;
  issuer: string;
  groups: string[];
  amr: string[];
  claims: Record<string, unknown>;
  login_ip: string | null;
  login_user_agent: string | null;
  login_country: string | null;
  last_ip: string | null;
  last_user_agent: string | null;
  device: SessionRecord['device'];
  issued_at: number;
  expires_at: number;
  first_seen_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  login_id: string | null;
  idp_sid?: string | null;
  identity_version?: number;
  live_state?: Record<string, unknown> | null;
}

export interface ActivityColumns {
  session_id: string;
  app: string;
  first_seen_at: number;
  last_seen_at: number;
  request_count: number;
  last_path: string;
}

export interface DecisionColumns {
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
  reasons: string[];
  config_hash: string;
  identity_version?: number | null;
}

export interface ChangeColumns {
  email: string;
  time: number;
  session_id: string;
  change: IdentityChange['change'];
  source?: string;
  version?: number | null;
  event_id?: string | null;
}

export function sessionFromColumns(r: SessionColumns): SessionRecord {
  return {
    id: r.id,
    kind: r.kind,
    userId: r.user_id,
    email: r.email,
    name: r.name,
    idp: r.idp,
    issuer: r.issuer,
    groups: r.groups,
    amr: r.amr,
    claims: r.claims,
    network: {
      loginIp: r.login_ip,
      loginUserAgent: r.login_user_agent,
      loginCountry: r.login_country,
      lastIp: r.last_ip,
      lastUserAgent: r.last_user_agent,
    },
    device: r.device,
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    revokeReason: r.revoke_reason,
    loginId: r.login_id ?? null,
    idpSid: r.idp_sid ?? null,
    identityVersion: r.identity_version ?? 0,
    liveState: r.live_state ?? null,
  };
}

export function activityFromColumns(r: ActivityColumns): AppActivity {
  return {
    sessionId: r.session_id,
    app: r.app,
    count: r.request_count,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    lastPath: r.last_path,
  };
}

export function decisionFromColumns(r: DecisionColumns): DecisionRecord {
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
    reasons: r.reasons,
    configHash: r.config_hash,
    identityVersion: r.identity_version ?? null,
  };
}

export function changeFromColumns(r: ChangeColumns): IdentityChange {
  return {
    email: r.email,
    time: r.time,
    sessionId: r.session_id,
    change: r.change,
    source: r.source ?? 'login',
    version: r.version ?? null,
    eventId: r.event_id ?? null,
  };
}
