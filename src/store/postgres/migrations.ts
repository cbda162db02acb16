// Versioned schema for the PostgreSQL store, the same tables as migrations-sqlite.ts. Append a
// migration to change the schema; never edit one that has shipped. Migrations run under a
// transaction-scoped advisory lock (postgres-db.ts), so instances starting at once apply each one
// exactly once. Every table name is qualified with the store's schema (`s`, already quoted).
//
// Types: times are BIGINT epoch milliseconds (parsed back to numbers); JSON columns are JSONB.
// Ids and app names use the "C" collation so ORDER BY and cursor comparisons are byte order, as in
// SQLite, whatever the database's default collation. Email lookups are case-insensitive through
// lower(email) and expression indexes.
import type { Migration } from '../sqlite/migrations.js';
import { ADMIN_ACTIONS } from './migration-10.js';

export interface PostgresMigration extends Omit<Migration, 'sql'> {
  sql: (s: string) => string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'session audit',
    sql: (s) => `
      CREATE TABLE ${s}.sessions (
        id               TEXT COLLATE "C" PRIMARY KEY,
        kind             TEXT NOT NULL,
        user_id          TEXT NOT NULL,
        email            TEXT,
        name             TEXT,
        idp              TEXT,
        issuer           TEXT NOT NULL,
        groups           JSONB NOT NULL,
        amr              JSONB NOT NULL,
        claims           JSONB NOT NULL,
        login_ip         TEXT,
        login_user_agent TEXT,
        login_country    TEXT,
        last_ip          TEXT,
        last_user_agent  TEXT,
        device           JSONB,
        issued_at        BIGINT NOT NULL,
        expires_at       BIGINT NOT NULL,
        first_seen_at    BIGINT NOT NULL,
        last_seen_at     BIGINT NOT NULL,
        revoked_at       BIGINT,
        revoked_by       TEXT,
        revoke_reason    TEXT
      );
      CREATE INDEX sessions_last_seen ON ${s}.sessions (last_seen_at, id);
      CREATE INDEX sessions_email_issued ON ${s}.sessions (lower(email), issued_at);
      CREATE INDEX sessions_user ON ${s}.sessions (user_id);
      CREATE INDEX sessions_expires ON ${s}.sessions (expires_at);
      CREATE INDEX sessions_revoked ON ${s}.sessions (id) WHERE revoked_at IS NOT NULL;

      CREATE TABLE ${s}.session_apps (
        session_id    TEXT COLLATE "C" NOT NULL REFERENCES ${s}.sessions (id) ON DELETE CASCADE,
        app           TEXT COLLATE "C" NOT NULL,
        first_seen_at BIGINT NOT NULL,
        last_seen_at  BIGINT NOT NULL,
        request_count BIGINT NOT NULL,
        last_path     TEXT NOT NULL,
        PRIMARY KEY (session_id, app)
      );
      CREATE INDEX session_apps_app ON ${s}.session_apps (app, last_seen_at);

      CREATE TABLE ${s}.decisions (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id  TEXT NOT NULL,
        time        BIGINT NOT NULL,
        app         TEXT COLLATE "C" NOT NULL,
        session_id  TEXT COLLATE "C",
        email       TEXT,
        method      TEXT NOT NULL,
        host        TEXT NOT NULL,
        path        TEXT NOT NULL,
        client_ip   TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        policy      TEXT,
        reason      TEXT NOT NULL,
        reasons     JSONB NOT NULL,
        config_hash TEXT NOT NULL
      );
      CREATE INDEX decisions_request ON ${s}.decisions (request_id);
      CREATE INDEX decisions_email_time ON ${s}.decisions (lower(email), time);
      CREATE INDEX decisions_app_time ON ${s}.decisions (app, time);
      CREATE INDEX decisions_session_time ON ${s}.decisions (session_id, time);
      CREATE INDEX decisions_time ON ${s}.decisions (time);

      CREATE TABLE ${s}.identity_changes (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email      TEXT NOT NULL,
        time       BIGINT NOT NULL,
        session_id TEXT COLLATE "C" NOT NULL,
        change     JSONB NOT NULL
      );
      CREATE INDEX identity_changes_email ON ${s}.identity_changes (lower(email), time);

      CREATE TABLE ${s}.app_revocations (
        app            TEXT COLLATE "C" PRIMARY KEY,
        revoked_before BIGINT NOT NULL
      );

      CREATE TABLE ${s}.heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at BIGINT NOT NULL
      );
      INSERT INTO ${s}.heartbeat (id, at) VALUES (1, 0);
    `,
  },
  {
    version: 2,
    name: 'sign-in state shared by every instance',
    // Single use is the primary key's job: a DELETE … RETURNING or an INSERT … ON CONFLICT decides
    // which of two instances gets a handoff code or spends a flow / TOTP step.
    sql: (s) => `
      CREATE TABLE ${s}.signin_once (
        key        TEXT COLLATE "C" PRIMARY KEY,
        value      TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE ${s}.signin_marks (
        key        TEXT COLLATE "C" PRIMARY KEY,
        value      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE ${s}.signin_throttle (
        key          TEXT COLLATE "C" PRIMARY KEY,
        failures     JSONB NOT NULL,
        locked_until BIGINT NOT NULL,
        locked_after INTEGER NOT NULL,
        expires_at   BIGINT NOT NULL
      );
      CREATE INDEX signin_throttle_locked ON ${s}.signin_throttle (locked_until);
    `,
  },
  {
    // Sessions of one sign-in share a login id, so sign-out can end them together (as in SQLite's 3).
    version: 3,
    name: 'sessions linked by sign-in',
    sql: (s) => `
      ALTER TABLE ${s}.sessions ADD COLUMN login_id TEXT COLLATE "C";
      CREATE INDEX sessions_login ON ${s}.sessions (login_id) WHERE login_id IS NOT NULL;
    `,
  },
  {
    // SCIM 2.0 provisioning (identity/scim/), as SQLite's scim migration. *_key columns hold
    // JavaScript-lower-cased copies, so both stores agree on case-insensitive matches.
    version: 4,
    name: 'scim users and groups',
    sql: (s) => `
      CREATE TABLE ${s}.scim_users (
        id               TEXT COLLATE "C" PRIMARY KEY,
        user_name        TEXT NOT NULL,
        user_name_key    TEXT COLLATE "C" NOT NULL UNIQUE,
        external_id      TEXT COLLATE "C",
        display_name     TEXT,
        display_name_key TEXT COLLATE "C",
        active           BOOLEAN NOT NULL,
        primary_email    TEXT COLLATE "C",
        emails           JSONB NOT NULL,
        attributes       JSONB NOT NULL,
        version          BIGINT NOT NULL,
        created_at       BIGINT NOT NULL,
        updated_at       BIGINT NOT NULL
      );
      CREATE INDEX scim_users_created ON ${s}.scim_users (created_at, id);
      CREATE INDEX scim_users_external ON ${s}.scim_users (external_id);
      CREATE INDEX scim_users_primary_email ON ${s}.scim_users (primary_email);

      CREATE TABLE ${s}.scim_user_emails (
        user_id    TEXT COLLATE "C" NOT NULL REFERENCES ${s}.scim_users (id) ON DELETE CASCADE,
        value_key  TEXT COLLATE "C" NOT NULL,
        type_key   TEXT COLLATE "C",
        is_primary BOOLEAN NOT NULL,
        PRIMARY KEY (user_id, value_key)
      );
      CREATE INDEX scim_user_emails_value ON ${s}.scim_user_emails (value_key);

      CREATE TABLE ${s}.scim_groups (
        id               TEXT COLLATE "C" PRIMARY KEY,
        display_name     TEXT NOT NULL,
        display_name_key TEXT COLLATE "C" NOT NULL,
        external_id      TEXT COLLATE "C",
        attributes       JSONB NOT NULL,
        version          BIGINT NOT NULL,
        created_at       BIGINT NOT NULL,
        updated_at       BIGINT NOT NULL
      );
      CREATE INDEX scim_groups_created ON ${s}.scim_groups (created_at, id);
      CREATE INDEX scim_groups_name ON ${s}.scim_groups (display_name_key);
      CREATE INDEX scim_groups_external ON ${s}.scim_groups (external_id);

      CREATE TABLE ${s}.scim_members (
        group_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.scim_groups (id) ON DELETE CASCADE,
        user_id  TEXT COLLATE "C" NOT NULL REFERENCES ${s}.scim_users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      );
      CREATE INDEX scim_members_user ON ${s}.scim_members (user_id, group_id);
    `,
  },
  {
    // Live identity: see sqlite/migrations.ts version 5.
    version: 5,
    name: 'live identity',
    sql: (s) => `
      ALTER TABLE ${s}.sessions ADD COLUMN idp_sid TEXT;
      ALTER TABLE ${s}.sessions ADD COLUMN identity_version BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE ${s}.sessions ADD COLUMN live_state JSONB;
      CREATE INDEX sessions_idp_sid ON ${s}.sessions (idp, idp_sid) WHERE idp_sid IS NOT NULL;
      CREATE INDEX sessions_changed ON ${s}.sessions (id) WHERE identity_version > 0;
      ALTER TABLE ${s}.decisions ADD COLUMN identity_version BIGINT;
      ALTER TABLE ${s}.identity_changes ADD COLUMN source TEXT NOT NULL DEFAULT 'login';
      ALTER TABLE ${s}.identity_changes ADD COLUMN version BIGINT;
      ALTER TABLE ${s}.identity_changes ADD COLUMN event_id TEXT;
      CREATE INDEX identity_changes_session ON ${s}.identity_changes (session_id, time);
    `,
  },
  {
    // Received identity events: see sqlite/migrations.ts version 6.
    version: 6,
    name: 'received identity events',
    sql: (s) => `
      CREATE TABLE ${s}.seen_events (
        channel    TEXT COLLATE "C" NOT NULL,
        id         TEXT COLLATE "C" NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (channel, id)
      );
      CREATE INDEX seen_events_expires ON ${s}.seen_events (expires_at);

      CREATE TABLE ${s}.device_compliance (
        subject  TEXT COLLATE "C" NOT NULL,
        device   TEXT COLLATE "C" NOT NULL,
        status   TEXT NOT NULL,
        time     BIGINT NOT NULL,
        source   TEXT NOT NULL,
        event_id TEXT,
        PRIMARY KEY (subject, device)
      );
    `,
  },
  {
    // Identity refresh: see sqlite/migrations.ts version 7.
    version: 7,
    name: 'session refresh',
    sql: (s) => `
      CREATE TABLE ${s}.session_refresh (
        session_id      TEXT COLLATE "C" PRIMARY KEY,
        idp             TEXT NOT NULL,
        sealed          TEXT NOT NULL,
        next_at         BIGINT NOT NULL,
        last_attempt_at BIGINT NOT NULL,
        last_ok_at      BIGINT NOT NULL,
        stale_at        BIGINT NOT NULL,
        failing_since   BIGINT,
        lease_until     BIGINT NOT NULL DEFAULT 0
      );
      CREATE INDEX session_refresh_due ON ${s}.session_refresh (next_at);
      CREATE INDEX session_refresh_failing ON ${s}.session_refresh (stale_at) WHERE failing_since IS NOT NULL;
    `,
  },
  {
    // Bounded admin reads: who uses an app pages by (last_seen_at, session_id) within the app,
    // users page by lower(email) in byte order; both walk an index and stop after one page. SQLite
    // needs no counterpart: its session_apps_app index carries the primary key (WITHOUT ROWID) and
    // sessions_email_issued is already NOCASE, so the same pages walk existing indexes there.
    version: 8,
    name: 'admin pages',
    sql: (s) => `
      CREATE INDEX session_apps_app_seen ON ${s}.session_apps (app, last_seen_at, session_id);
      DROP INDEX ${s}.session_apps_app;
      CREATE INDEX sessions_email_key ON ${s}.sessions ((lower(email) COLLATE "C"), last_seen_at) WHERE email IS NOT NULL;
    `,
  },
  {
    // Devices: see sqlite/migrations.ts version 9 (version 8 is PostgreSQL's alone).
    version: 9,
    name: 'devices',
    sql: (s) => `
      CREATE TABLE ${s}.devices (
        id            TEXT COLLATE "C" PRIMARY KEY,
        owner         TEXT NOT NULL,
        credential_id TEXT COLLATE "C" NOT NULL UNIQUE,
        state         TEXT NOT NULL,
        enrolled_at   BIGINT NOT NULL,
        record        JSONB NOT NULL
      );
      CREATE INDEX devices_owner ON ${s}.devices (owner, enrolled_at);
      CREATE INDEX devices_state ON ${s}.devices (state, enrolled_at);
      CREATE TABLE ${s}.device_sessions (
        session_id TEXT COLLATE "C" PRIMARY KEY,
        device_id  TEXT COLLATE "C" NOT NULL,
        bound_at   BIGINT NOT NULL
      );
      CREATE INDEX device_sessions_device ON ${s}.device_sessions (device_id);
    `,
  },
  ADMIN_ACTIONS,
];
