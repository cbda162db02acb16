// The PostgreSQL side of the admin actions audit (store/action-types.ts): appended durably, listed
// newest first through the (time, id) indexes.
import type pg from 'pg';
import { decodeCursor, encodeCursor, pageLimit } from '../cursor.js';
import { inTransaction, pgInt, pgJson, pgText, quoteIdent } from './db.js';
import { actionFromColumns, type ActionColumns, type ActionQuery, type ActionStore, type AdminAction, type AdminActionInput } from '../action-types.js';
import type { Page } from '../types.js';

export class PostgresActionStore implements ActionStore {
  private readonly table: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.table = `${quoteIdent(schema)}.admin_actions`;
  }

  async record(a: AdminActionInput): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(`SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') IN ('off', 'local')`);
      await c.query(`INSERT INTO ${this.table} (time, actor, action, target, reason, request_id, via, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`, [
        pgInt(a.time),
        pgText(a.actor),
        a.action,
        pgText(a.target),
        pgText(a.reason),
        pgText(a.requestId),
        a.via,
        a.detail ? pgJson(a.detail) : null,
      ]);
    });
  }

  async list(q: ActionQuery): Promise<Page<AdminAction>> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of [['actor', q.actor], ['action', q.action], ['target', q.target]] as const) {
      if (value === undefined || value === '') continue;
      params.push(pgText(value));
      where.push(`${column} = $${params.length}`);
    }
    if (q.cursor) {
      const [time, id] = decodeCursor(q.cursor, 'number');
      params.push(time, id);
      where.push(`(time, id) < ($${params.length - 1}, $${params.length})`);
    }
    const limit = pageLimit(q.limit);
    params.push(limit + 1);
    const rows = (
      await this.pool.query<ActionColumns>(`SELECT * FROM ${this.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT $${params.length}`, params)
    ).rows;
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map(actionFromColumns);
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor([last.time, last.id]) : null };
  }
}
