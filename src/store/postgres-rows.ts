// Row shapes of the PostgreSQL tables (JSONB columns arrive parsed, BIGINTs as numbers) and their
// mapping to the store's record types; plus the column arrays that bulk statements unnest.
import { pgInt, pgJson, pgText } from './postgres-db.js';
import type { AppActivity, DecisionRecord, IdentityChange, SessionRecord, SessionUpsert } from './types.js';

export interface PgSessionRow {
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
}

export interface PgActivityRow {
  session_id: string;
  app: string;
  first_seen_at: number;
  last_seen_at: number;
  request_count: number;
  last_path: string;
}

export interface PgDecisionRow {
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
}

export interface PgChangeRow {
  email: string;
  time: number;
  session_id: string;
  change: IdentityChange['change'];
}

export function sessionFromPg(r: PgSessionRow): SessionRecord {
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
  };
}

export function activityFromPg(r: PgActivityRow): AppActivity {
  return {
    sessionId: r.session_id,
    app: r.app,
    count: r.request_count,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    lastPath: r.last_path,
  };
}

export function decisionFromPg(r: PgDecisionRow): DecisionRecord {
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
  };
}

export function changeFromPg(r: PgChangeRow): IdentityChange {
  return { email: r.email, time: r.time, sessionId: r.session_id, change: r.change };
}

type Cell = string | number | null;

/** Columns (name and SQL array type) and how each is taken from a record, in statement order. */
function columns<T>(spec: Array<[name: string, type: 'text' | 'jsonb' | 'bigint', get: (r: T) => Cell]>) {
  return {
    names: spec.map(([n]) => n),
    /** `unnest($1::text[], $2::text[], …) AS u(col, …)` starting at parameter `first`. */
    unnest(first = 1): string {
      const arrays = spec.map(([, type], i) => `$${first + i}::${type === 'bigint' ? 'bigint' : 'text'}[]`);
      return `unnest(${arrays.join(', ')}) WITH ORDINALITY AS u(${spec.map(([n]) => n).join(', ')}, ord)`;
    },
    /** The select list, casting JSON text to JSONB. */
    select: spec.map(([n, type]) => (type === 'jsonb' ? `u.${n}::jsonb` : `u.${n}`)).join(', '),
    /** One array per column. */
    arrays(records: readonly T[]): Cell[][] {
      return spec.map(([, type, get]) => (type === 'bigint' ? records.map((r) => pgInt(get(r))) : records.map(get)));
    },
  };
}

export const SESSION_COLUMNS = columns<SessionUpsert>([
  ['id', 'text', (s) => pgText(s.id)],
  ['kind', 'text', (s) => s.kind],
  ['user_id', 'text', (s) => pgText(s.userId)],
  ['email', 'text', (s) => pgText(s.email)],
  ['name', 'text', (s) => pgText(s.name)],
  ['idp', 'text', (s) => pgText(s.idp)],
  ['issuer', 'text', (s) => pgText(s.issuer)],
  ['groups', 'jsonb', (s) => pgJson(s.groups ?? [])],
  ['amr', 'jsonb', (s) => pgJson(s.amr ?? [])],
  ['claims', 'jsonb', (s) => pgJson(s.claims ?? {})],
  ['login_ip', 'text', (s) => pgText(s.network?.loginIp)],
  ['login_user_agent', 'text', (s) => pgText(s.network?.loginUserAgent)],
  ['login_country', 'text', (s) => pgText(s.network?.loginCountry)],
  ['last_ip', 'text', (s) => pgText(s.network?.lastIp)],
  ['last_user_agent', 'text', (s) => pgText(s.network?.lastUserAgent)],
  ['device', 'jsonb', (s) => (s.device ? pgJson(s.device) : null)],
  ['issued_at', 'bigint', (s) => s.issuedAt],
  ['expires_at', 'bigint', (s) => s.expiresAt],
  ['first_seen_at', 'bigint', (s) => s.firstSeenAt],
  ['last_seen_at', 'bigint', (s) => s.lastSeenAt],
]);

export const TOUCH_COLUMNS = columns<SessionUpsert>([
  ['id', 'text', (s) => pgText(s.id)],
  ['last_ip', 'text', (s) => pgText(s.network?.lastIp)],
  ['last_user_agent', 'text', (s) => pgText(s.network?.lastUserAgent)],
  ['last_seen_at', 'bigint', (s) => s.lastSeenAt],
]);

export const ACTIVITY_COLUMNS = columns<AppActivity>([
  ['session_id', 'text', (a) => pgText(a.sessionId)],
  ['app', 'text', (a) => pgText(a.app)],
  ['first_seen_at', 'bigint', (a) => a.firstSeenAt],
  ['last_seen_at', 'bigint', (a) => a.lastSeenAt],
  ['request_count', 'bigint', (a) => a.count],
  ['last_path', 'text', (a) => pgText(a.lastPath)],
]);

export const DECISION_COLUMNS = columns<DecisionRecord>([
  ['request_id', 'text', (d) => pgText(d.requestId)],
  ['time', 'bigint', (d) => d.time],
  ['app', 'text', (d) => pgText(d.app)],
  ['session_id', 'text', (d) => pgText(d.sessionId)],
  ['email', 'text', (d) => pgText(d.email)],
  ['method', 'text', (d) => pgText(d.method)],
  ['host', 'text', (d) => pgText(d.host)],
  ['path', 'text', (d) => pgText(d.path)],
  ['client_ip', 'text', (d) => pgText(d.clientIp)],
  ['outcome', 'text', (d) => d.outcome],
  ['policy', 'text', (d) => pgText(d.policy)],
  ['reason', 'text', (d) => pgText(d.reason)],
  ['reasons', 'jsonb', (d) => pgJson(d.reasons ?? [])],
  ['config_hash', 'text', (d) => pgText(d.configHash)],
]);

export const CHANGE_COLUMNS = columns<IdentityChange>([
  ['email', 'text', (c) => pgText(c.email)],
  ['time', 'bigint', (c) => c.time],
  ['session_id', 'text', (c) => pgText(c.sessionId)],
  ['change', 'jsonb', (c) => pgJson(c.change)],
]);
