// PostgreSQL migration 10 (migrations.ts appends it): see sqlite/migration-10.ts.
import type { PostgresMigration } from './migrations.js';

export const ADMIN_ACTIONS: PostgresMigration = {
  version: 10,
  name: 'admin actions',
  sql: (s) => `
    CREATE TABLE ${s}.admin_actions (
      id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      time       BIGINT NOT NULL,
      actor      TEXT COLLATE "C" NOT NULL,
      action     TEXT COLLATE "C" NOT NULL,
      target     TEXT COLLATE "C" NOT NULL,
      reason     TEXT,
      request_id TEXT NOT NULL,
      via        TEXT NOT NULL,
      detail     JSONB
    );
    CREATE INDEX admin_actions_time ON ${s}.admin_actions (time, id);
    CREATE INDEX admin_actions_actor ON ${s}.admin_actions (actor, time, id);
    CREATE INDEX admin_actions_action ON ${s}.admin_actions (action, time, id);
    CREATE INDEX admin_actions_target ON ${s}.admin_actions (target, time, id);
  `,
};
