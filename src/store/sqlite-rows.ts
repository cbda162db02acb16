// Row shapes of the SQLite tables and their mapping to/from the store's record types.
import type { DecisionRecord, IdentityChange, SessionRecord, SessionUpsert } from './types.js';
import {
  activityFromColumns,
  changeFromColumns,
  decisionFromColumns,
  sessionFromColumns,
  type ActivityColumns,
  type ChangeColumns,
  type DecisionColumns,
  type SessionColumns,
} from './rows.js';

/** SQLite keeps JSON columns as text; everything else arrives as the shared row shape. */
type JsonText<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

export type SessionRow = Omit<JsonText<SessionColumns, 'groups' | 'amr' | 'claims'>, 'device'> & { device: string | null };
export type ActivityRow = ActivityColumns;
export type DecisionRow = JsonText<DecisionColumns, 'reasons'>;
export type ChangeRow = JsonText<ChangeColumns, 'change'>;

export function sessionFromRow(r: SessionRow): SessionRecord {
  return sessionFromColumns({
    ...r,
    groups: JSON.parse(r.groups) as string[],
    amr: JSON.parse(r.amr) as string[],
    claims: JSON.parse(r.claims) as Record<string, unknown>,
    device: r.device === null ? null : (JSON.parse(r.device) as SessionRecord['device']),
  });
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

export const activityFromRow = activityFromColumns;

export function decisionFromRow(r: DecisionRow): DecisionRecord {
  return decisionFromColumns({ ...r, reasons: JSON.parse(r.reasons) as string[] });
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
  return changeFromColumns({ ...r, change: JSON.parse(r.change) as IdentityChange['change'] });
}
