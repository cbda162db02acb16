// SCIM users, groups and memberships in SQLite (migration 3). Each write is one IMMEDIATE
// transaction guarded by the row's version (a concurrent writer makes it `stale`, never lost).
// List queries depend on the filter, so they are prepared per call; SCIM traffic is a provisioning
// trickle, not the request path.
import type Database from 'better-sqlite3';
import { retryBusy, sqliteCode } from './db.js';
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

const TABLES = { users: 'scim_users', emails: 'scim_user_emails', groups: 'scim_groups', members: 'scim_members' };
const bool = (b: boolean) => (b ? 1 : 0);
const isUnique = (err: unknown) => sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE';

/** Thrown inside a transaction to roll it back with an answer. */
class Abort {
  constructor(readonly result: ScimGroupWriteResult) {}
}

function prepare(db: Database.Database) {
  const place = (cols: string) => cols.replace(/\w+/g, '?');
  return {
    insertUser: db.prepare(`INSERT INTO scim_users (${SCIM_USER_COLUMNS}) VALUES (${place(SCIM_USER_COLUMNS)})`),
    updateUser: db.prepare(`UPDATE scim_users SET user_name = ?, user_name_key = ?, external_id = ?, display_name = ?,
      display_name_key = ?, active = ?, primary_email = ?, emails = ?, attributes = ?, version = ?, updated_at = ?
      WHERE id = ? AND version = ?`),
    userExists: db.prepare('SELECT 1 FROM scim_users WHERE id = ?').pluck(),
    getUser: db.prepare('SELECT * FROM scim_users WHERE id = ?'),
    deleteUser: db.prepare('DELETE FROM scim_users WHERE id = ?'),
    deleteEmails: db.prepare('DELETE FROM scim_user_emails WHERE user_id = ?'),
    insertEmail: db.prepare('INSERT INTO scim_user_emails (user_id, value_key, type_key, is_primary) VALUES (?, ?, ?, ?)'),
    userGroups: db.prepare(`SELECT g.id, g.display_name AS displayName FROM scim_members m JOIN scim_groups g ON g.id = m.group_id
      WHERE m.user_id = ? ORDER BY g.display_name_key, g.id`),
    standing: db.prepare(`SELECT * FROM scim_users WHERE user_name_key = @email OR primary_email = @email
      ORDER BY user_name_key = @email DESC, created_at LIMIT 1`),
    insertGroup: db.prepare(`INSERT INTO scim_groups (${SCIM_GROUP_COLUMNS}) VALUES (${place(SCIM_GROUP_COLUMNS)})`),
    updateGroup: db.prepare(`UPDATE scim_groups SET display_name = ?, display_name_key = ?, external_id = ?, attributes = ?,
      version = ?, updated_at = ? WHERE id = ? AND version = ?`),
    groupExists: db.prepare('SELECT 1 FROM scim_groups WHERE id = ?').pluck(),
    getGroup: db.prepare('SELECT * FROM scim_groups WHERE id = ?'),
    deleteGroup: db.prepare('DELETE FROM scim_groups WHERE id = ?'),
    memberIds: db.prepare('SELECT user_id FROM scim_members WHERE group_id = ?').pluck(),
    addMember: db.prepare('INSERT INTO scim_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    removeMember: db.prepare('DELETE FROM scim_members WHERE group_id = ? AND user_id = ?'),
    removeMembers: db.prepare('DELETE FROM scim_members WHERE group_id = ?'),
    members: db.prepare(`SELECT m.user_id AS value, u.user_name AS display FROM scim_members m JOIN scim_users u ON u.id = m.user_id
      WHERE m.group_id = ? ORDER BY u.user_name_key LIMIT ?`),
  };
}

export class SqliteScimStore implements ScimStore {
  private readonly st: ReturnType<typeof prepare>;

  constructor(private readonly db: Database.Database) {
    this.st = prepare(db);
  }

  private write<T>(fn: () => T): Promise<T> {
    return retryBusy(() => this.db.transaction(fn).immediate());
  }

  private writeEmails(u: ScimUserRecord): void {
    this.st.deleteEmails.run(u.id);
    for (const e of scimEmailRows(u)) this.st.insertEmail.run(u.id, e.value, e.type, bool(e.primary));
  }

  async createScimUser(u: ScimUserRecord): Promise<ScimWriteResult> {
    try {
      return await this.write(() => {
        this.st.insertUser.run(scimUserValues(u, bool));
        this.writeEmails(u);
        return 'ok' as const;
      });
    } catch (err) {
      if (isUnique(err)) return { conflict: 'userName' };
      throw err;
    }
  }

  async updateScimUser(u: ScimUserRecord, expectedVersion: number): Promise<ScimWriteResult> {
    const [id, userName, userNameKey, externalId, displayName, displayNameKey, active, primaryEmail, emails, attributes, version, , updatedAt] = scimUserValues(u, bool);
    try {
      return await this.write(() => {
        const changed = this.st.updateUser.run(userName, userNameKey, externalId, displayName, displayNameKey, active, primaryEmail, emails, attributes, version, updatedAt, id, expectedVersion).changes;
        if (changed === 0) return this.st.userExists.get(u.id) === undefined ? 'not_found' : 'stale';
        this.writeEmails(u);
        return 'ok';
      });
    } catch (err) {
      if (isUnique(err)) return { conflict: 'userName' };
      throw err;
    }
  }

  deleteScimUser(id: string): Promise<ScimUserRecord | null> {
    return this.write(() => {
      const row = this.st.getUser.get(id) as ScimUserRow | undefined;
      if (!row) return null;
      this.st.deleteUser.run(id); // emails and memberships go with it (ON DELETE CASCADE)
      return scimUserFromRow(row);
    });
  }

  async getScimUser(id: string): Promise<ScimUserRecord | null> {
    const row = this.st.getUser.get(id) as ScimUserRow | undefined;
    return row ? scimUserFromRow(row) : null;
  }

  async listScimUsers(q: ScimListQuery): Promise<ScimList<ScimUserRecord>> {
    return this.list(q, 'users', 'u', scimUserFromRow as (r: unknown) => ScimUserRecord);
  }

  async listScimGroups(q: ScimListQuery): Promise<ScimList<ScimGroupRecord>> {
    return this.list(q, 'groups', 'g', scimGroupFromRow as (r: unknown) => ScimGroupRecord);
  }

  private list<T>(q: ScimListQuery, kind: 'users' | 'groups', alias: string, map: (r: unknown) => T): ScimList<T> {
    const params: Array<string | number> = [];
    const where = scimWhere(kind, q.filter, TABLES, (v) => {
      params.push(typeof v === 'boolean' ? bool(v) : v);
      return '?';
    });
    const from = `FROM ${TABLES[kind]} ${alias} WHERE ${where}`;
    const total = this.db.prepare(`SELECT count(*) ${from}`).pluck().get(...params) as number;
    if (q.count === 0) return { total, items: [] };
    const rows = this.db.prepare(`SELECT ${alias}.* ${from} ORDER BY ${alias}.created_at, ${alias}.id LIMIT ? OFFSET ?`).all(...params, q.count, q.startIndex - 1);
    return { total, items: rows.map(map) };
  }

  async scimUserGroups(userId: string): Promise<Array<{ id: string; displayName: string }>> {
    return this.st.userGroups.all(userId) as Array<{ id: string; displayName: string }>;
  }

  async scimUsersById(ids: string[]): Promise<ScimUserRecord[]> {
    return ids.flatMap((id) => {
      const row = this.st.getUser.get(id) as ScimUserRow | undefined;
      return row ? [scimUserFromRow(row)] : [];
    });
  }

  async scimStanding(email: string): Promise<ScimStanding | null> {
    const row = this.st.standing.get({ email: email.toLowerCase() }) as ScimUserRow | undefined;
    if (!row) return null;
    const groups = (this.st.userGroups.all(row.id) as Array<{ displayName: string }>).map((g) => g.displayName);
    return { userId: row.id, active: row.active === 1, groups };
  }

  /** Applies the change; returns the users whose membership really changed (added xor removed). */
  private applyMembers(groupId: string, m: ScimMemberChange): string[] {
    const removed = new Set<string>();
    const added = new Set<string>();
    if (m.removeAll) {
      for (const id of this.st.memberIds.all(groupId) as string[]) removed.add(id);
      this.st.removeMembers.run(groupId);
    }
    for (const id of m.remove ?? []) if (this.st.removeMember.run(groupId, id).changes > 0) removed.add(id);
    for (const id of m.add ?? []) {
      if (this.st.userExists.get(id) === undefined) throw new Abort({ unknownMember: id });
      if (this.st.addMember.run(groupId, id).changes > 0) added.add(id);
    }
    return changedMembers(removed, added);
  }

  private async groupWrite(fn: () => ScimGroupWriteResult): Promise<ScimGroupWriteResult> {
    try {
      return await this.write(fn);
    } catch (err) {
      if (err instanceof Abort) return err.result;
      throw err;
    }
  }

  createScimGroup(g: ScimGroupRecord, members: string[]): Promise<ScimGroupWriteResult> {
    return this.groupWrite(() => {
      this.st.insertGroup.run(scimGroupValues(g));
      return { changedMembers: this.applyMembers(g.id, { add: members }) };
    });
  }

  updateScimGroup(g: ScimGroupRecord, expectedVersion: number, members: ScimMemberChange): Promise<ScimGroupWriteResult> {
    const [id, displayName, displayNameKey, externalId, attributes, version, , updatedAt] = scimGroupValues(g);
    return this.groupWrite(() => {
      const changed = this.st.updateGroup.run(displayName, displayNameKey, externalId, attributes, version, updatedAt, id, expectedVersion).changes;
      if (changed === 0) return this.st.groupExists.get(g.id) === undefined ? 'not_found' : 'stale';
      return { changedMembers: this.applyMembers(g.id, members) };
    });
  }

  deleteScimGroup(id: string): Promise<string[] | null> {
    return this.write(() => {
      if (this.st.groupExists.get(id) === undefined) return null;
      const members = this.st.memberIds.all(id) as string[];
      this.st.deleteGroup.run(id);
      return members;
    });
  }

  async getScimGroup(id: string): Promise<ScimGroupRecord | null> {
    const row = this.st.getGroup.get(id) as ScimGroupRow | undefined;
    return row ? scimGroupFromRow(row) : null;
  }

  async scimGroupMemberIds(groupId: string): Promise<string[]> {
    return this.st.memberIds.all(groupId) as string[];
  }

  async scimGroupMembers(groupId: string, limit: number): Promise<ScimMember[]> {
    return this.st.members.all(groupId, limit) as ScimMember[];
  }
}
