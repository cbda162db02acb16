// Row shapes of the SQLite tables and their mapping to/from the store's record types.
import type { DecisionRecord, IdentityChange, SessionRecord, SessionUpsert } from '../types.js';
import {
  activityFromColumns,
  changeFromColumns,
  decisionFromColumns,
  sessionFromColumns,
  type ActivityColumns,
  type ChangeColumns,
  type DecisionColumns,
  type SessionColumns,
} from '../rows.js';

/** SQLite keeps JSON columns as text; everything else arrives as the shared row shape. */
type JsonText<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

export type SessionRow = Omit<JsonText<SessionColumns, 'groups' | 'amr' | 'claims'>, 'device' | 'live_state'> & {
  device: string | null;
  live_state?: string | null;
};
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
    live_state: r.live_state ? (JSON.parse(r.live_state) as Record<string, unknown>) : null,
  });
}

/** The columns a new session is inserted with (every one but the revocation ones), in order. */
export const SESSION_INSERT_COLUMNS =
  'id, kind, user_id, email, name, idp, issuer, groups, amr, claims, login_ip, login_user_agent, login_country, ' +
  'last_ip, last_user_agent, device, issued_at, expires_at, first_seen_at, last_seen_at, login_id, idp_sid';

/** Positional parameters of SESSION_INSERT_COLUMNS, written into `out` (reused across sessions). */
export function sessionInsertParams(s: SessionUpsert, out: Array<string | number | null>): Array<string | number | null> {
  const n = s.network;
  out[0] = s.id;
  out[1] = s.kind;
  out[2] = s.userId;
  out[3] = s.email ?? null;
  out[4] = s.name ?? null;
  out[5] = s.idp ?? null;
  out[6] = s.issuer;
  out[7] = JSON.stringify(s.groups ?? []);
  out[8] = JSON.stringify(s.amr ?? []);
  out[9] = JSON.stringify(s.claims ?? {});
  out[10] = n?.loginIp ?? null;
  out[11] = n?.loginUserAgent ?? null;
  out[12] = n?.loginCountry ?? null;
  out[13] = n?.lastIp ?? null;
  out[14] = n?.lastUserAgent ?? null;
  out[15] = s.device ? JSON.stringify(s.device) : null;
  out[16] = s.issuedAt;
  out[17] = s.expiresAt;
  out[18] = s.firstSeenAt;
  out[19] = s.lastSeenAt;
  out[20] = s.loginId ?? null;
  out[21] = s.idpSid ?? null;
  return out;
}

/** Named parameters for touching a known session's last-seen fields. */
export function sessionTouchParams(s: SessionUpsert): Record<string, string | number | null> {
  return { id: s.id, last_ip: s.network?.lastIp ?? null, last_user_agent: s.network?.lastUserAgent ?? null, last_seen_at: s.lastSeenAt };
}

export const activityFromRow = activityFromColumns;

export function decisionFromRow(r: DecisionRow): DecisionRecord {
  return decisionFromColumns({ ...r, reasons: JSON.parse(r.reasons) as string[] });
}

/** Columns of one decision row, in the order of the INSERT statements. */
export const DECISION_PARAMS = 15;

/**
 * The parameters of a multi-row decision INSERT, written in place into one array that is reused
 * for every chunk: no array or object per row. The JSON of `reasons` is reused while the same
 * frozen array comes again (the policy engine shares one frozen decision across cache hits).
 */
export class DecisionParamWriter {
  readonly values: Array<string | number | null>;
  private lastReasons: readonly string[] | null = null;
  private lastReasonsJson = '[]';

  constructor(rows: number) {
    this.values = new Array<string | number | null>(rows * DECISION_PARAMS).fill(null);
  }

  put(row: number, d: DecisionRecord): void {
    const v = this.values;
    const o = row * DECISION_PARAMS;
    v[o] = d.requestId;
    v[o + 1] = d.time;
    v[o + 2] = d.app;
    v[o + 3] = d.sessionId ?? null;
    v[o + 4] = d.email ?? null;
    v[o + 5] = d.method;
    v[o + 6] = d.host;
    v[o + 7] = d.path;
    v[o + 8] = d.clientIp;
    v[o + 9] = d.outcome;
    v[o + 10] = d.policy ?? null;
    v[o + 11] = d.reason;
    v[o + 12] = this.reasonsJson(d.reasons);
    v[o + 13] = d.configHash;
    v[o + 14] = d.identityVersion ?? null;
  }

  private reasonsJson(reasons: readonly string[] | undefined): string {
    if (reasons === undefined || reasons.length === 0) return '[]';
    if (reasons === this.lastReasons) return this.lastReasonsJson;
    const json = JSON.stringify(reasons);
    if (Object.isFrozen(reasons)) {
      this.lastReasons = reasons;
      this.lastReasonsJson = json;
    }
    return json;
  }
}

export function changeFromRow(r: ChangeRow): IdentityChange {
  return changeFromColumns({ ...r, change: JSON.parse(r.change) as IdentityChange['change'] });
}
