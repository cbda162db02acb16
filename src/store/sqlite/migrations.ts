// Versioned schema for the SQLite store. Append a migration to change the schema; never edit one
// that has shipped. Each runs once, in its own IMMEDIATE transaction, recorded in schema_migrations.
// Times are INTEGER epoch milliseconds; JSON columns hold arrays/objects as TEXT.

import { ADMIN_ACTIONS } from './migration-10.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'session audit',
    sql: `
      CREATE TABLE sessions (
        id               TEXT PRIMARY KEY,
        kind             TEXT NOT NULL,
        user_id          TEXT NOT NULL,
        email            TEXT COLLATE NOCASE,
        name             TEXT,
        idp              TEXT,
        issuer           TEXT NOT NULL,
        groups           TEXT NOT NULL,
        amr              TEXT NOT NULL,
        claims           TEXT NOT NULL,
        login_ip         TEXT,
        login_user_agent TEXT,
        login_country    TEXT,
        last_ip          TEXT,
        last_user_agent  TEXT,
        device           TEXT,
        issued_at        INTEGER NOT NULL,
        expires_at       INTEGER NOT NULL,
        first_seen_at    INTEGER NOT NULL,
        last_seen_at     INTEGER NOT NULL,
        revoked_at       INTEGER,
        revoked_by       TEXT,
        revoke_reason    TEXT
      );
      CREATE INDEX sessions_last_seen ON sessions (last_seen_at, id);
      CREATE INDEX sessions_email_issued ON sessions (email, issued_at);
      CREATE INDEX sessions_user ON sessions (user_id);
      CREATE INDEX sessions_expires ON sessions (expires_at);
      CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE session_apps (
        session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        app           TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL,
        request_count INTEGER NOT NULL,
        last_path     TEXT NOT NULL,
        PRIMARY KEY (session_id, app)
      ) WITHOUT ROWID;
      CREATE INDEX session_apps_app ON session_apps (app, last_seen_at);

      CREATE TABLE decisions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id  TEXT NOT NULL,
        time        INTEGER NOT NULL,
        app         TEXT NOT NULL,
        session_id  TEXT,
        email       TEXT COLLATE NOCASE,
        method      TEXT NOT NULL,
        host        TEXT NOT NULL,
        path        TEXT NOT NULL,
        client_ip   TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        policy      TEXT,
        reason      TEXT NOT NULL,
        reasons     TEXT NOT NULL,
        config_hash TEXT NOT NULL
      );
      CREATE INDEX decisions_request ON decisions (request_id);
      CREATE INDEX decisions_email_time ON decisions (email, time);
      CREATE INDEX decisions_app_time ON decisions (app, time);
      CREATE INDEX decisions_session_time ON decisions (session_id, time);
      CREATE INDEX decisions_time ON decisions (time);

      CREATE TABLE identity_changes (
        id         INTEGER PRIMARY KEY,
        email      TEXT NOT NULL COLLATE NOCASE,
        time       INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        change     TEXT NOT NULL
      );
      CREATE INDEX identity_changes_email ON identity_changes (email, time);

      CREATE TABLE app_revocations (
        app            TEXT PRIMARY KEY,
        revoked_before INTEGER NOT NULL
      );

      CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at INTEGER NOT NULL
      );
      INSERT INTO heartbeat (id, at) VALUES (1, 0);
    `,
  },
  {
    // A B-tree on random request ids (UUIDs) makes every recorded decision dirty a different leaf
    // page, so each commit writes ~one 4 KiB WAL frame per row (and the checkpoint writes it again):
    // ~10 µs of CPU per row with record_allowed: all, growing with the table. This index is keyed by
    // the id's last character (16 buckets for UUIDs), then by row id: new rows append at the end of
    // their bucket, so a batch dirties ~16 pages whatever its size. A lookup by request id reads its
    // bucket (1/16 of the index; request_id is in the entry, so no table row is read until it
    // matches): ~4 ms per million decisions. sqlite-queries.ts names the index (INDEXED BY).
    version: 2,
    name: 'append-friendly request id index',
    sql: `
      DROP INDEX decisions_request;
      CREATE INDEX decisions_request_tail ON decisions (substr(request_id, -1), id, request_id);
    `,
  },
  {
    // Sessions of one sign-in (the login host's and the app hosts it handed off to, and a later
    // sign-in in the same browser) share a login id, so sign-out can end them together.
    version: 3,
    name: 'sessions linked by sign-in',
    sql: `
      ALTER TABLE sessions ADD COLUMN login_id TEXT;
      CREATE INDEX sessions_login ON sessions (login_id) WHERE login_id IS NOT NULL;
    `,
  },
  {
    // SCIM 2.0 provisioning (identity/scim/). *_key columns hold JavaScript-lower-cased copies for
    // case-insensitive filters and uniqueness (SQLite's lower() folds ASCII only).
    version: 4,
    name: 'scim users and groups',
    sql: `
      CREATE TABLE scim_users (
        id               TEXT PRIMARY KEY,
        user_name        TEXT NOT NULL,
        user_name_key    TEXT NOT NULL UNIQUE,
        external_id      TEXT,
        display_name     TEXT,
        display_name_key TEXT,
        active           INTEGER NOT NULL,
        primary_email    TEXT,
        emails           TEXT NOT NULL,
        attributes       TEXT NOT NULL,
        version          INTEGER NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      );
      CREATE INDEX scim_users_created ON scim_users (created_at, id);
      CREATE INDEX scim_users_external ON scim_users (external_id);
      CREATE INDEX scim_users_primary_email ON scim_users (primary_email);

      CREATE TABLE scim_user_emails (
        user_id    TEXT NOT NULL REFERENCES scim_users (id) ON DELETE CASCADE,
        value_key  TEXT NOT NULL,
        type_key   TEXT,
        is_primary INTEGER NOT NULL,
        PRIMARY KEY (user_id, value_key)
      ) WITHOUT ROWID;
      CREATE INDEX scim_user_emails_value ON scim_user_emails (value_key);

      CREATE TABLE scim_groups (
        id               TEXT PRIMARY KEY,
        display_name     TEXT NOT NULL,
        display_name_key TEXT NOT NULL,
        external_id      TEXT,
        attributes       TEXT NOT NULL,
        version          INTEGER NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      );
      CREATE INDEX scim_groups_created ON scim_groups (created_at, id);
      CREATE INDEX scim_groups_name ON scim_groups (display_name_key);
      CREATE INDEX scim_groups_external ON scim_groups (external_id);

      CREATE TABLE scim_members (
        group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
        user_id  TEXT NOT NULL REFERENCES scim_users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX scim_members_user ON scim_members (user_id, group_id);
    `,
  },
  {
    // Live identity (identity/): the IdP's session id for back-channel logout, the identity
    // version and overlay state of each session, the version each decision was made on, and
    // who/what changed an identity in its history.
    version: 5,
    name: 'live identity',
    sql: `
      ALTER TABLE sessions ADD COLUMN idp_sid TEXT;
      ALTER TABLE sessions ADD COLUMN identity_version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN live_state TEXT;
      CREATE INDEX sessions_idp_sid ON sessions (idp, idp_sid) WHERE idp_sid IS NOT NULL;
      CREATE INDEX sessions_changed ON sessions (id) WHERE identity_version > 0;
      ALTER TABLE decisions ADD COLUMN identity_version INTEGER;
      ALTER TABLE identity_changes ADD COLUMN source TEXT NOT NULL DEFAULT 'login';
      ALTER TABLE identity_changes ADD COLUMN version INTEGER;
      ALTER TABLE identity_changes ADD COLUMN event_id TEXT;
      CREATE INDEX identity_changes_session ON identity_changes (session_id, time);
    `,
  },
  {
    // Identity events received from outside (store/event-types.ts): the ids already received, so
    // a replayed Security Event Token is refused after a restart too, and each device's last
    // reported compliance per subject (CAEP device-compliance-change).
    version: 6,
    name: 'received identity events',
    sql: `
      CREATE TABLE seen_events (
        channel    TEXT NOT NULL,
        id         TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (channel, id)
      ) WITHOUT ROWID;
      CREATE INDEX seen_events_expires ON seen_events (expires_at);

      CREATE TABLE device_compliance (
        subject  TEXT NOT NULL,
        device   TEXT NOT NULL,
        status   TEXT NOT NULL,
        time     INTEGER NOT NULL,
        source   TEXT NOT NULL,
        event_id TEXT,
        PRIMARY KEY (subject, device)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Identity refresh (identity/refresh/): each refreshable session's sealed refresh token, when to
    // refresh it next, its last success and failure, and a lease so one process refreshes it at a time.
    version: 7,
    name: 'session refresh',
    sql: `
      CREATE TABLE session_refresh (
        session_id      TEXT PRIMARY KEY,
        idp             TEXT NOT NULL,
        sealed          TEXT NOT NULL,
        next_at         INTEGER NOT NULL,
        last_attempt_at INTEGER NOT NULL,
        last_ok_at      INTEGER NOT NULL,
        stale_at        INTEGER NOT NULL,
        failing_since   INTEGER,
        lease_until     INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX session_refresh_due ON session_refresh (next_at);
      CREATE INDEX session_refresh_failing ON session_refresh (stale_at) WHERE failing_since IS NOT NULL;
    `,
  },
  {
    // Device identity and posture (src/devices): one row per WebAuthn device (the record as JSON,
    // with the columns it is looked up by) and which session proved which device. (PostgreSQL's
    // version 8 has no SQLite counterpart, so both stores number this one 9.)
    version: 9,
    name: 'devices',
    sql: `
      CREATE TABLE devices (
        id            TEXT PRIMARY KEY,
        owner         TEXT NOT NULL,
        credential_id TEXT NOT NULL UNIQUE,
        state         TEXT NOT NULL,
        enrolled_at   INTEGER NOT NULL,
        record        TEXT NOT NULL
      );
      CREATE INDEX devices_owner ON devices (owner, enrolled_at);
      CREATE INDEX devices_state ON devices (state, enrolled_at);
      CREATE TABLE device_sessions (
        session_id TEXT PRIMARY KEY,
        device_id  TEXT NOT NULL,
        bound_at   INTEGER NOT NULL
      );
      CREATE INDEX device_sessions_device ON device_sessions (device_id);
    `,
  },
  ADMIN_ACTIONS,
];
