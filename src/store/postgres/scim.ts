// SCIM users, groups and memberships in PostgreSQL (migration 2), the same behaviour as
// sqlite/scim.ts: each write one transaction guarded by the row's version; uniqueness of userName
// by its unique index (two instances creating the same user at once: one gets the conflict).
import type pg from 'pg';
import { inTransaction, pgCode, pgInt, pgJson, pgText, quoteIdent } from './db.js';
import {
  changedMembers,
  SCIM_GROUP_COLUMNS,
  SCIM_USER_COLUMNS,
  scimEmailRows,
  scimGroupFromRow,
  scimGroupValues,
  scimUserFromRow,
  scimUserValues,
  scimWhere,
  type ScimGroupRow,
  type ScimTables,
  type ScimUserRow,
} from '../scim-sql.js';
import type {
  ScimGroupRecord,
  ScimGroupWriteResult,
  ScimList,
  ScimListQuery,
  ScimMember,
  ScimMemberChange,
  ScimStanding,
  ScimStore,
  ScimUserRecord,
  ScimWriteResult,
} from '../scim-types.js';

const UNIQUE_VIOLATION = '23505';
const placeholders = (cols: string) => cols.split(',').map((_c, i) => `$${i + 1}`).join(', ');
type Value = string | number | boolean | null;
/** Text and JSON cleaned of what PostgreSQL refuses (NUL, lone surrogates). */
const clean = (v: Value): Value => (typeof v === 'string' ? pgText(v) : typeof v === 'number' ? pgInt(v) : v);

export class PostgresScimStore implements ScimStore {
  private readonly t: ScimTables;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const s = quoteIdent(schema);
    this.t = { users: `${s}.scim_users`, emails: `${s}.scim_user_emails`, groups: `${s}.scim_groups`, members: `${s}.scim_members` };
  }

  private async writeEmails(c: pg.PoolClient, u: ScimUserRecord): Promise<void> {
    await c.query(`DELETE FROM ${this.t.emails} WHERE user_id = $1`, [u.id]);
    const rows = scimEmailRows(u);
    if (rows.length === 0) return;
    await c.query(
      `INSERT INTO ${this.t.emails} (user_id, value_key, type_key, is_primary)
       SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::boolean[])`,
      [u.id, rows.map((r) => pgText(r.value)), rows.map((r) => pgText(r.type)), rows.map((r) => r.primary)],
    );
  }

  private userValues(u: ScimUserRecord): Value[] {
    const v = scimUserValues(u, (b) => b).map(clean);
    // emails and attributes (JSON) again through pgJson: JSONB refuses \u0000.
    v[8] = pgJson(u.emails);
    v[9] = pgJson(u.attributes);
    return v;
  }

  async createScimUser(u: ScimUserRecord): Promise<ScimWriteResult> {
    try {
      return await inTransaction(this.pool, async (c) => {
        await c.query(`INSERT INTO ${this.t.users} (${SCIM_USER_COLUMNS}) VALUES (${placeholders(SCIM_USER_COLUMNS)})`, this.userValues(u));
        await this.writeEmails(c, u);
        return 'ok' as const;
      });
    } catch (err) {
      if (pgCode(err) === UNIQUE_VIOLATION) return { conflict: 'userName' };
      throw err;
    }
  }

  async updateScimUser(u: ScimUserRecord, expectedVersion: number): Promise<ScimWriteResult> {
    const [id, userName, userNameKey, externalId, displayName, displayNameKey, active, primaryEmail, emails, attributes, version, , updatedAt] = this.userValues(u);
    try {
      return await inTransaction(this.pool, async (c) => {
        const r = await c.query(
          `UPDATE ${this.t.users} SET user_name = $1, user_name_key = $2, external_id = $3, display_name = $4, display_name_key = $5,
             active = $6, primary_email = $7, emails = $8, attributes = $9, version = $10, updated_at = $11
           WHERE id = $12 AND version = $13`,
          [userName, userNameKey, externalId, displayName, displayNameKey, active, primaryEmail, emails, attributes, version, updatedAt, id, expectedVersion],
        );
        if ((r.rowCount ?? 0) === 0) return (await c.query(`SELECT 1 FROM ${this.t.users} WHERE id = $1`, [u.id])).rowCount ? 'stale' : 'not_found';
        await this.writeEmails(c, u);
        return 'ok';
      });
    } catch (err) {
      if (pgCode(err) === UNIQUE_VIOLATION) return { conflict: 'userName' };
      throw err;
    }
  }

  async deleteScimUser(id: string): Promise<ScimUserRecord | null> {
    const r = await this.pool.query<ScimUserRow>(`DELETE FROM ${this.t.users} WHERE id = $1 RETURNING *`, [pgText(id)]);
    const row = r.rows[0];
    return row ? scimUserFromRow(row) : null;
  }

  async getScimUser(id: string): Promise<ScimUserRecord | null> {
    const row = (await this.pool.query<ScimUserRow>(`SELECT * FROM ${this.t.users} WHERE id = $1`, [pgText(id)])).rows[0];
    return row ? scimUserFromRow(row) : null;
  }

  listScimUsers(q: ScimListQuery): Promise<ScimList<ScimUserRecord>> {
    return this.list(q, 'users', 'u', scimUserFromRow as (r: unknown) => ScimUserRecord);
  }

  listScimGroups(q: ScimListQuery): Promise<ScimList<ScimGroupRecord>> {
    return this.list(q, 'groups', 'g', scimGroupFromRow as (r: unknown) => ScimGroupRecord);
  }

  private async list<T>(q: ScimListQuery, kind: 'users' | 'groups', alias: string, map: (r: unknown) => T): Promise<ScimList<T>> {
    const params: Value[] = [];
    const where = scimWhere(kind, q.filter, this.t, (v) => {
      params.push(clean(v));
      return `$${params.length}`;
    });
    const from = `FROM ${this.t[kind]} ${alias} WHERE ${where}`;
    const total = Number((await this.pool.query<{ n: string }>(`SELECT count(*) AS n ${from}`, params)).rows[0]?.n ?? 0);
    if (q.count === 0) return { total, items: [] };
    const n = params.length;
    const rows = await this.pool.query(`SELECT ${alias}.* ${from} ORDER BY ${alias}.created_at, ${alias}.id LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, q.count, q.startIndex - 1]);
    return { total, items: rows.rows.map(map) };
  }

  async scimUserGroups(userId: string): Promise<Array<{ id: string; displayName: string }>> {
    const r = await this.pool.query<{ id: string; displayName: string }>(
      `SELECT g.id, g.display_name AS "displayName" FROM ${this.t.members} m JOIN ${this.t.groups} g ON g.id = m.group_id
       WHERE m.user_id = $1 ORDER BY g.display_name_key, g.id`,
      [pgText(userId)],
    );
    return r.rows;
  }

  async scimUsersById(ids: string[]): Promise<ScimUserRecord[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query<ScimUserRow>(`SELECT * FROM ${this.t.users} WHERE id = ANY($1::text[])`, [ids.map((id) => pgText(id))]);
    return r.rows.map(scimUserFromRow);
  }

  async scimStanding(email: string): Promise<ScimStanding | null> {
    const key = pgText(email.toLowerCase());
    const row = (
      await this.pool.query<ScimUserRow>(
        `SELECT * FROM ${this.t.users} WHERE user_name_key = $1 OR primary_email = $1 ORDER BY user_name_key = $1 DESC, created_at LIMIT 1`,
        [key],
      )
    ).rows[0];
    if (!row) return null;
    return { userId: row.id, active: row.active === true, groups: (await this.scimUserGroups(row.id)).map((g) => g.displayName) };
  }

  /** Applies the change; returns the users whose membership really changed (added xor removed). */
  private async applyMembers(c: pg.PoolClient, groupId: string, m: ScimMemberChange): Promise<ScimGroupWriteResult> {
    const add = (m.add ?? []).map((id) => pgText(id) as string);
    if (add.length) {
      const known = new Set((await c.query<{ id: string }>(`SELECT id FROM ${this.t.users} WHERE id = ANY($1::text[])`, [add])).rows.map((r) => r.id));
      const unknown = add.find((id) => !known.has(id));
      if (unknown !== undefined) return { unknownMember: unknown };
    }
    const removed = new Set<string>();
    if (m.removeAll) {
      const r = await c.query<{ user_id: string }>(`DELETE FROM ${this.t.members} WHERE group_id = $1 RETURNING user_id`, [groupId]);
      for (const row of r.rows) removed.add(row.user_id);
    }
    if (m.remove?.length) {
      const r = await c.query<{ user_id: string }>(`DELETE FROM ${this.t.members} WHERE group_id = $1 AND user_id = ANY($2::text[]) RETURNING user_id`, [
        groupId,
        m.remove.map((id) => pgText(id)),
      ]);
      for (const row of r.rows) removed.add(row.user_id);
    }
    const added = new Set<string>();
    if (add.length) {
      const r = await c.query<{ user_id: string }>(
        `INSERT INTO ${this.t.members} (group_id, user_id) SELECT $1::text, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING user_id`,
        [groupId, add],
      );
      for (const row of r.rows) added.add(row.user_id);
    }
    return { changedMembers: changedMembers(removed, added) };
  }

  /** Runs a group write; an unknown member rolls the whole transaction back. */
  private async groupWrite(fn: (c: pg.PoolClient) => Promise<ScimGroupWriteResult>): Promise<ScimGroupWriteResult> {
    let answer: ScimGroupWriteResult | undefined;
    try {
      return await inTransaction(this.pool, async (c) => {
        const r = await fn(c);
        if (typeof r === 'object' && 'unknownMember' in r) {
          answer = r;
          throw new Error('rollback');
        }
        return r;
      });
    } catch (err) {
      if (answer) return answer;
      throw err;
    }
  }

  createScimGroup(g: ScimGroupRecord, members: string[]): Promise<ScimGroupWriteResult> {
    return this.groupWrite(async (c) => {
      const v = scimGroupValues(g).map(clean);
      v[4] = pgJson(g.attributes);
      await c.query(`INSERT INTO ${this.t.groups} (${SCIM_GROUP_COLUMNS}) VALUES (${placeholders(SCIM_GROUP_COLUMNS)})`, v);
      return this.applyMembers(c, g.id, { add: members });
    });
  }

  updateScimGroup(g: ScimGroupRecord, expectedVersion: number, members: ScimMemberChange): Promise<ScimGroupWriteResult> {
    return this.groupWrite(async (c) => {
      const r = await c.query(
        `UPDATE ${this.t.groups} SET display_name = $1, display_name_key = $2, external_id = $3, attributes = $4, version = $5, updated_at = $6
         WHERE id = $7 AND version = $8`,
        [pgText(g.displayName), pgText(g.displayName.toLowerCase()), pgText(g.externalId), pgJson(g.attributes), g.version, pgInt(g.updatedAt), g.id, expectedVersion],
      );
      if ((r.rowCount ?? 0) === 0) return (await c.query(`SELECT 1 FROM ${this.t.groups} WHERE id = $1`, [g.id])).rowCount ? 'stale' : 'not_found';
      return this.applyMembers(c, g.id, members);
    });
  }

  deleteScimGroup(id: string): Promise<string[] | null> {
    return inTransaction(this.pool, async (c) => {
      const members = (await c.query<{ user_id: string }>(`SELECT user_id FROM ${this.t.members} WHERE group_id = $1`, [pgText(id)])).rows.map((r) => r.user_id);
      const r = await c.query(`DELETE FROM ${this.t.groups} WHERE id = $1`, [pgText(id)]);
      return (r.rowCount ?? 0) > 0 ? members : null;
    });
  }

  async getScimGroup(id: string): Promise<ScimGroupRecord | null> {
    const row = (await this.pool.query<ScimGroupRow>(`SELECT * FROM ${this.t.groups} WHERE id = $1`, [pgText(id)])).rows[0];
    return row ? scimGroupFromRow(row) : null;
  }

  async scimGroupMemberIds(groupId: string): Promise<string[]> {
    const r = await this.pool.query<{ user_id: string }>(`SELECT user_id FROM ${this.t.members} WHERE group_id = $1`, [pgText(groupId)]);
    return r.rows.map((row) => row.user_id);
  }

  async scimGroupMembers(groupId: string, limit: number): Promise<ScimMember[]> {
    const r = await this.pool.query<ScimMember>(
      `SELECT m.user_id AS value, u.user_name AS display FROM ${this.t.members} m JOIN ${this.t.users} u ON u.id = m.user_id
       WHERE m.group_id = $1 ORDER BY u.user_name_key LIMIT $2`,
      [pgText(groupId), limit],
    );
    return r.rows;
  }
}
