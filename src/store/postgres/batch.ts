// One writer batch in one PostgreSQL transaction, with the SQLite store's semantics but in a few
// bulk statements instead of one round trip per record. The records of a statement travel as one
// JSON parameter read back with json_to_recordset (postgres-rows.ts):
//
//   1. lock the batch's known sessions in id order (SELECT … ORDER BY id FOR UPDATE), so two
//      instances touching the same sessions queue up instead of deadlocking;
//   2. new sessions: compare each with the user's previous session (same issuer and IdP) — in the
//      database or earlier in this batch — for identity history, then insert them (ON CONFLICT DO
//      NOTHING: another instance may have inserted the same session a moment ago; it is touched);
//   3. known sessions get their last-seen fields touched (a late touch never moves them back);
//   4. activity adds up per session × app (unknown sessions ignored) and moves last-seen;
//   5. decisions are appended in batch order.
import type pg from 'pg';
import { diffIdentity } from '../identity-diff.js';
import { pgInt, pgText, type Tables } from './db.js';
import { ACTIVITY_COLUMNS, CHANGE_COLUMNS, DECISION_COLUMNS, SESSION_COLUMNS, TOUCH_COLUMNS } from './rows.js';
import type { AppActivity, IdentityChange, RecordBatch, SessionUpsert } from '../types.js';

export function batchStatements(t: Tables) {
  const S = SESSION_COLUMNS;
  return {
    lockKnown: `SELECT id FROM ${t.sessions} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    previous: `SELECT u.ord, p.id, p.issued_at, p.groups, p.claims
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
        WITH ORDINALITY AS u(id, email, issuer, idp, issued_at, ord)
      CROSS JOIN LATERAL (
        SELECT s.id, s.issued_at, s.groups, s.claims FROM ${t.sessions} s
        WHERE lower(s.email) = lower(u.email) AND s.issuer = u.issuer AND s.idp IS NOT DISTINCT FROM u.idp
          AND s.id <> u.id AND s.issued_at <= u.issued_at
        ORDER BY s.issued_at DESC, s.id DESC LIMIT 1) p`,
    insertSessions: `INSERT INTO ${t.sessions} (${S.names.join(', ')})
      SELECT ${S.select} FROM ${S.recordset()} ORDER BY u.id
      ON CONFLICT (id) DO NOTHING RETURNING id`,
    touch: `UPDATE ${t.sessions} s SET
        last_ip = CASE WHEN u.last_seen_at >= s.last_seen_at THEN coalesce(u.last_ip, s.last_ip) ELSE s.last_ip END,
        last_user_agent = CASE WHEN u.last_seen_at >= s.last_seen_at
          THEN coalesce(u.last_user_agent, s.last_user_agent) ELSE s.last_user_agent END,
        last_seen_at = greatest(s.last_seen_at, u.last_seen_at)
      FROM ${TOUCH_COLUMNS.recordset()} WHERE s.id = u.id`,
    insertChanges: `INSERT INTO ${t.changes} (${CHANGE_COLUMNS.names.join(', ')})
      SELECT ${CHANGE_COLUMNS.select} FROM ${CHANGE_COLUMNS.recordset()} ORDER BY u.ord`,
    upsertActivity: `INSERT INTO ${t.apps} AS a (${ACTIVITY_COLUMNS.names.join(', ')})
      SELECT ${ACTIVITY_COLUMNS.select} FROM ${ACTIVITY_COLUMNS.recordset()}
      WHERE EXISTS (SELECT 1 FROM ${t.sessions} s WHERE s.id = u.session_id)
      ORDER BY u.session_id, u.app
      ON CONFLICT (session_id, app) DO UPDATE SET
        request_count = a.request_count + excluded.request_count,
        first_seen_at = least(a.first_seen_at, excluded.first_seen_at),
        last_path = CASE WHEN excluded.last_seen_at >= a.last_seen_at THEN excluded.last_path ELSE a.last_path END,
        last_seen_at = greatest(a.last_seen_at, excluded.last_seen_at)`,
    touchFromActivity: `UPDATE ${t.sessions} s SET last_seen_at = greatest(s.last_seen_at, u.at)
      FROM unnest($1::text[], $2::bigint[]) AS u(id, at) WHERE s.id = u.id`,
    insertDecisions: `INSERT INTO ${t.decisions} (${DECISION_COLUMNS.names.join(', ')})
      SELECT ${DECISION_COLUMNS.select} FROM ${DECISION_COLUMNS.recordset()} ORDER BY u.ord`,
  };
}
export type BatchStatements = ReturnType<typeof batchStatements>;

/** A B-tree index entry holds at most ~2.7 kB: 600 characters are at most 2.4 kB of UTF-8. */
export const MAX_INDEXED_CHARS = 600;

const fits = (v: string | null | undefined) => v === null || v === undefined || v.length <= MAX_INDEXED_CHARS;
const cap = <T extends string | null>(v: T): T => (v !== null && v.length > MAX_INDEXED_CHARS ? (v.slice(0, MAX_INDEXED_CHARS) as T) : v);

/**
 * A value too long for its index would fail the whole batch, and the writer would retry it forever
 * (SQLite has no such limit). Sessions whose id is that long are left out (and counted); other
 * indexed values (user id, email, request id …) are cut.
 */
export function fitIndexes(batch: RecordBatch): { batch: RecordBatch; skipped: number } {
  const sessions = batch.sessions.filter((s) => fits(s.id));
  const skipped = batch.sessions.length - sessions.length;
  const fine =
    skipped === 0 &&
    batch.sessions.every((s) => fits(s.userId) && fits(s.email)) &&
    batch.decisions.every((d) => fits(d.requestId) && fits(d.sessionId) && fits(d.email) && fits(d.app));
  if (fine) return { batch, skipped };
  return {
    skipped,
    batch: {
      sessions: sessions.map((s) => ({ ...s, userId: cap(s.userId), email: cap(s.email ?? null) })),
      activity: batch.activity.filter((a) => fits(a.sessionId)).map((a) => ({ ...a, app: cap(a.app) })),
      decisions: batch.decisions.map((d) => ({
        ...d,
        requestId: cap(d.requestId),
        sessionId: cap(d.sessionId ?? null),
        email: cap(d.email ?? null),
        app: cap(d.app),
      })),
    },
  };
}

/** Byte order, like the "C" collation of the id columns. */
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function applyBatch(c: pg.PoolClient, st: BatchStatements, batch: RecordBatch): Promise<void> {
  // Oldest first, so each new session is compared with the one that really preceded it.
  const sessions = [...batch.sessions].map((s) => ({ ...s, id: pgText(s.id) as string })).sort((a, b) => a.issuedAt - b.issuedAt);
  const activity = mergeActivity(batch.activity);
  const ids = [...new Set([...sessions.map((s) => s.id), ...activity.map((a) => a.sessionId)])].sort(byId);
  const known = new Set<string>();
  if (ids.length > 0) for (const r of (await c.query<{ id: string }>(st.lockKnown, [ids])).rows) known.add(r.id);

  const fresh: SessionUpsert[] = [];
  const touches: SessionUpsert[] = [];
  const seen = new Set<string>();
  for (const s of sessions) {
    // Known session: last-seen fields only. Identity and revocation are never overwritten.
    (known.has(s.id) || seen.has(s.id) ? touches : fresh).push(s);
    seen.add(s.id);
  }
  if (fresh.length > 0) {
    const changes = await identityChanges(c, st, fresh);
    const inserted = new Set((await c.query<{ id: string }>(st.insertSessions, [SESSION_COLUMNS.json(fresh)])).rows.map((r) => r.id));
    // Inserted by another instance since step 1: it is a known session now.
    for (const s of fresh) if (!inserted.has(s.id)) touches.push(s);
    const kept = changes.filter((ch) => inserted.has(ch.sessionId));
    if (kept.length > 0) await c.query(st.insertChanges, [CHANGE_COLUMNS.json(kept)]);
  }
  // One UPDATE touches a row at most once: repeated ids (never sent by the writer) go in rounds.
  let round = touches;
  while (round.length > 0) {
    const once = new Map<string, SessionUpsert>();
    const later: SessionUpsert[] = [];
    for (const s of round) {
      if (once.has(s.id)) later.push(s);
      else once.set(s.id, s);
    }
    await c.query(st.touch, [TOUCH_COLUMNS.json([...once.values()])]);
    round = later;
  }
  if (activity.length > 0) {
    await c.query(st.upsertActivity, [ACTIVITY_COLUMNS.json(activity)]);
    const lastSeen = new Map<string, number>();
    for (const a of activity) lastSeen.set(a.sessionId, Math.max(lastSeen.get(a.sessionId) ?? a.lastSeenAt, a.lastSeenAt));
    await c.query(st.touchFromActivity, [[...lastSeen.keys()], [...lastSeen.values()].map(pgInt)]);
  }
  if (batch.decisions.length > 0) await c.query(st.insertDecisions, [DECISION_COLUMNS.json(batch.decisions)]);
}

/** Aggregates repeated session × app entries the way consecutive upserts would. */
function mergeActivity(list: readonly AppActivity[]): AppActivity[] {
  const merged = new Map<string, AppActivity>();
  for (const raw of list) {
    const a = { ...raw, sessionId: pgText(raw.sessionId) as string, app: pgText(raw.app) as string };
    const key = `${a.sessionId}\n${a.app}`;
    const prev = merged.get(key);
    if (!prev) {
      merged.set(key, a);
      continue;
    }
    prev.count += a.count;
    prev.firstSeenAt = Math.min(prev.firstSeenAt, a.firstSeenAt);
    if (a.lastSeenAt >= prev.lastSeenAt) {
      prev.lastSeenAt = a.lastSeenAt;
      prev.lastPath = a.lastPath;
    }
  }
  return [...merged.values()];
}

interface Previous {
  id: string;
  issuedAt: number;
  groups: string[];
  claims: Record<string, unknown>;
}

/** Identity history for new sessions (sorted oldest first), before they are inserted. */
async function identityChanges(c: pg.PoolClient, st: BatchStatements, fresh: SessionUpsert[]): Promise<IdentityChange[]> {
  const withEmail = fresh.filter((s) => s.email);
  if (withEmail.length === 0) return [];
  const rows = await c.query<{ ord: number; id: string; issued_at: number; groups: string[]; claims: Record<string, unknown> }>(st.previous, [
    withEmail.map((s) => s.id),
    withEmail.map((s) => pgText(s.email)),
    withEmail.map((s) => pgText(s.issuer)),
    withEmail.map((s) => pgText(s.idp)),
    withEmail.map((s) => pgInt(s.issuedAt)),
  ]);
  const fromDb = new Map<number, Previous>();
  for (const r of rows.rows) fromDb.set(Number(r.ord) - 1, { id: r.id, issuedAt: r.issued_at, groups: r.groups, claims: r.claims });

  const changes: IdentityChange[] = [];
  const latestInBatch = new Map<string, Previous>();
  withEmail.forEach((s, i) => {
    const key = JSON.stringify([(s.email as string).toLowerCase(), s.issuer, s.idp ?? null]);
    const candidates = [fromDb.get(i), latestInBatch.get(key)].filter((p): p is Previous => p !== undefined);
    // The newest by (issued_at, id), as ORDER BY issued_at DESC, id DESC would pick.
    const prev = candidates.sort((a, b) => b.issuedAt - a.issuedAt || byId(b.id, a.id))[0];
    const next = { groups: s.groups ?? [], claims: s.claims ?? {} };
    if (prev) {
      const change = diffIdentity(prev, next);
      if (change) changes.push({ email: s.email as string, time: s.issuedAt, sessionId: s.id, change });
    }
    const current = latestInBatch.get(key);
    if (!current || s.issuedAt > current.issuedAt || (s.issuedAt === current.issuedAt && byId(s.id, current.id) > 0)) {
      latestInBatch.set(key, { id: s.id, issuedAt: s.issuedAt, ...next });
    }
  });
  return changes;
}
