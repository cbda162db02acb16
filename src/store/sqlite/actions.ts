// The SQLite side of the admin actions audit (store/action-types.ts). Reading needs only a
// read-only connection (the admin read worker's); recording goes through the store's own, durably.
import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor, pageLimit } from '../cursor.js';
import { durably } from './db.js';
import { actionFromColumns, type ActionColumns, type ActionQuery, type ActionStore, type AdminAction, type AdminActionInput } from '../action-types.js';
import type { Page } from '../types.js';

type ActionRow = Omit<ActionColumns, 'detail'> & { detail: string | null };

const fromRow = (r: ActionRow): AdminAction => actionFromColumns({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null });

/** Lists actions; each filter shape is prepared once. */
export class SqliteActionReader implements Pick<ActionStore, 'list'> {
  private readonly shapes = new Map<string, Database.Statement>();

  constructor(protected readonly db: Database.Database) {}

  async list(q: ActionQuery): Promise<Page<AdminAction>> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    let key = '';
    for (const [flag, column, value] of [['a', 'actor', q.actor], ['k', 'action', q.action], ['t', 'target', q.target]] as const) {
      if (value === undefined || value === '') continue;
      key += flag;
      where.push(`${column} = ?`);
      params.push(value);
    }
    if (q.cursor) {
      const [time, id] = decodeCursor(q.cursor, 'number');
      key += 'c';
      where.push('(time, id) < (?, ?)');
      params.push(time, id);
    }
    let stmt = this.shapes.get(key);
    if (!stmt) {
      stmt = this.db.prepare(`SELECT * FROM admin_actions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ?`);
      this.shapes.set(key, stmt);
    }
    const limit = pageLimit(q.limit);
    const rows = stmt.all(...params, limit + 1) as ActionRow[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map(fromRow);
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor([last.time, last.id]) : null };
  }
}

export class SqliteActionStore extends SqliteActionReader implements ActionStore {
  private insert: Database.Statement | null = null;

  async record(a: AdminActionInput): Promise<void> {
    this.insert ??= this.db.prepare(`INSERT INTO admin_actions (time, actor, action, target, reason, request_id, via, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    const insert = this.insert;
    await durably(this.db, () => insert.run(a.time, a.actor, a.action, a.target, a.reason, a.requestId, a.via, a.detail ? JSON.stringify(a.detail) : null));
  }
}
