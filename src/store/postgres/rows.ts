// Row shapes of the PostgreSQL tables (JSONB columns arrive parsed, BIGINTs as numbers) and their
// mapping to the store's record types; plus the JSON rows that bulk statements read.
import { pgInt, pgJson, pgText } from './db.js';
import type { AppActivity, DecisionRecord, IdentityChange, SessionUpsert } from '../types.js';

export type {
  SessionColumns as PgSessionRow,
  ActivityColumns as PgActivityRow,
  DecisionColumns as PgDecisionRow,
  ChangeColumns as PgChangeRow,
} from '../rows.js';
export {
  sessionFromColumns as sessionFromPg,
  activityFromColumns as activityFromPg,
  decisionFromColumns as decisionFromPg,
  changeFromColumns as changeFromPg,
} from '../rows.js';

type Cell = string | number | null;

/** Columns (name and SQL type) and how each is taken from a record, in statement order. */
function columns<T>(spec: Array<[name: string, type: 'text' | 'jsonb' | 'bigint', get: (r: T) => Cell]>) {
  const keys = spec.map((_, i) => `c${i}`);
  return {
    names: spec.map(([n]) => n),
    /** The select list, casting JSON text to JSONB. */
    select: spec.map(([n, type]) => (type === 'jsonb' ? `u.${n}::jsonb` : `u.${n}`)).join(', '),
    /**
     * The rows as ONE parameter, `$param`: a JSON array of objects (keys c0, c1 …) read back by
     * json_to_recordset, `AS u(col, …, ord)`. The gateway's work is one JSON.stringify, where
     * unnest of column arrays had node-postgres escape every element of every array as an array
     * literal: about half the client CPU per row (the server parses the JSON instead).
     */
    recordset(param = 1): string {
      const defs = spec.map(([, type], i) => `c${i} ${type === 'bigint' ? 'bigint' : 'text'}`).join(', ');
      return `ROWS FROM (json_to_recordset($${param}::json) AS (${defs})) WITH ORDINALITY AS u(${spec.map(([n]) => n).join(', ')}, ord)`;
    },
    /** The recordset() parameter. NUL and lone surrogates are made U+FFFD, as pgText/pgJson do. */
    json(records: readonly T[]): string {
      const rows = new Array<Record<string, Cell>>(records.length);
      for (let r = 0; r < records.length; r++) {
        const rec = records[r] as T;
        const row: Record<string, Cell> = {};
        for (let i = 0; i < spec.length; i++) {
          const [, type, get] = spec[i] as (typeof spec)[number];
          row[keys[i] as string] = type === 'bigint' ? pgInt(get(rec)) : get(rec);
        }
        rows[r] = row;
      }
      return pgJson(rows);
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
  ['login_id', 'text', (s) => pgText(s.loginId ?? null)],
  ['idp_sid', 'text', (s) => pgText(s.idpSid)],
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
  ['identity_version', 'bigint', (d) => d.identityVersion ?? null],
]);

export const CHANGE_COLUMNS = columns<IdentityChange>([
  ['email', 'text', (c) => pgText(c.email)],
  ['time', 'bigint', (c) => c.time],
  ['session_id', 'text', (c) => pgText(c.sessionId)],
  ['change', 'jsonb', (c) => pgJson(c.change)],
  ['source', 'text', (c) => pgText(c.source ?? 'login')],
  ['version', 'bigint', (c) => c.version ?? null],
  ['event_id', 'text', (c) => pgText(c.eventId)],
]);
