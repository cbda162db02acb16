// Connecting to PostgreSQL: connection settings from the store URL, the pool (which must never
// crash the process when an idle connection dies), migrations under an advisory lock, short
// transactions with a retry on deadlock/serialization failures, and the cleaning of values
// PostgreSQL refuses (NUL characters, lone surrogates in JSON) so one odd claim can never poison a
// batch that the writer would then retry forever.
import pg from 'pg';
import type { Logger } from '../../log.js';
import { POSTGRES_MIGRATIONS, type PostgresMigration } from './migrations.js';

export const DEFAULT_SCHEMA = 'public';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface PostgresTls {
  /** PEM contents of the CA that signed the server certificate. */
  ca?: string;
  rejectUnauthorized: boolean;
}

export interface PostgresTimeouts {
  /** Opening a connection (default 5000 ms). */
  connectMs?: number;
  /** One query, measured by the client, so a silent network cannot hang a caller (default 15000 ms). */
  queryMs?: number;
}

export interface PostgresConnection {
  config: pg.ClientConfig;
  schema: string;
  /** The URL without its password, for logs and error messages. */
  target: string;
}

/** BIGINT (epoch ms, counts) as a JS number: every value the store writes is a safe integer. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Reads the store URL. `?schema=name` (default public) picks the schema, which is created on first
 * start when missing; with postgres_tls the URL's own sslmode/sslrootcert are replaced by it.
 */
export function connectionFromUrl(url: string, tls?: PostgresTls, timeouts: PostgresTimeouts = {}): PostgresConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('store.postgres is not a valid postgres:// URL');
  }
  const schema = u.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`store.postgres: schema "${schema}" must be a plain identifier (letters, digits, _; at most 63)`);
  }
  u.searchParams.delete('schema');
  let ssl: pg.ClientConfig['ssl'];
  if (tls) {
    for (const p of ['sslmode', 'ssl', 'sslrootcert', 'uselibpqcompat']) u.searchParams.delete(p);
    ssl = { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: tls.ca } : {}) };
  }
  const shown = new URL(u.toString());
  shown.password = '';
  if (schema !== DEFAULT_SCHEMA) shown.searchParams.set('schema', schema);
  return {
    schema,
    target: shown.toString(),
    config: {
      connectionString: u.toString(),
      ...(ssl ? { ssl } : {}),
      application_name: 'gatehouse',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: timeouts.connectMs ?? 5000,
      query_timeout: timeouts.queryMs ?? 15_000,
      types: TYPES,
    },
  };
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Schema-qualified table names: every statement names its schema, so search_path never matters. */
export function tableNames(schema: string) {
  const s = quoteIdent(schema);
  return {
    schema: s,
    sessions: `${s}.sessions`,
    apps: `${s}.session_apps`,
    decisions: `${s}.decisions`,
    changes: `${s}.identity_changes`,
    appRevocations: `${s}.app_revocations`,
    heartbeat: `${s}.heartbeat`,
    signinOnce: `${s}.signin_once`,
    signinMarks: `${s}.signin_marks`,
    signinThrottle: `${s}.signin_throttle`,
    migrations: `${s}.schema_migrations`,
    refresh: `${s}.session_refresh`,
  };
}
export type Tables = ReturnType<typeof tableNames>;

export function createPool(conn: PostgresConnection, logger: Logger, max: number): pg.Pool {
  const pool = new pg.Pool({ ...conn.config, max, idleTimeoutMillis: 30_000 });
  // An idle connection that dies (server restart, network cut) is reported here; without a
  // listener it would be an uncaught 'error' event. The pool replaces it on next use.
  pool.on('error', (err: Error & { code?: string }) => {
    logger.warn({ err: err.message, code: err.code, store: 'postgres' }, 'idle PostgreSQL connection lost; it is replaced on next use');
  });
  return pool;
}

/** Transaction lock class for migrations (the second key is the schema's hash). */
const MIGRATION_LOCK = 0x6761_7465; // "gate"

/**
 * Applies pending migrations in one transaction under pg_advisory_xact_lock: a second instance
 * starting at the same moment waits for the lock, then finds the migrations applied. Runs on its
 * own connection without the query timeout: waiting for that lock, or a long migration, is fine
 * before anything is served.
 */
export async function migrate(conn: PostgresConnection, migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS): Promise<void> {
  const t = tableNames(conn.schema);
  const c = new pg.Client({ ...conn.config, query_timeout: undefined });
  c.on('error', () => undefined); // a lost connection fails the query in progress; that is enough
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, conn.schema]);
    // Checked first: CREATE … IF NOT EXISTS still needs the CREATE privilege, which a runtime
    // role on a schema migrated by someone else may not have.
    const exists = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [conn.schema]);
    if (exists.rowCount === 0) await c.query(`CREATE SCHEMA ${t.schema}`);
    const table = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${t.schema}.schema_migrations`]);
    if (table.rows[0]?.t == null) {
      await c.query(`CREATE TABLE ${t.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    }
    const found = (await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${t.migrations}`)).rows[0]?.v ?? 0;
    const known = migrations.at(-1)?.version ?? 0;
    if (found > known) {
      throw new Error(
        `PostgreSQL store ${conn.target} has schema version ${found}, newer than this Gatehouse knows (${known}): ` +
          'upgrade Gatehouse (every instance sharing the database must run the same or a newer version)',
      );
    }
    for (const m of migrations) {
      if (m.version <= found) continue;
      await c.query(m.sql(t.schema));
      await c.query(`INSERT INTO ${t.migrations} (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** SQLSTATEs after which the transaction certainly rolled back and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

export function pgCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Runs `fn` in one transaction on one pooled connection; retries (twice) when PostgreSQL aborted it
 * for a deadlock or a serialization failure. Any other error is thrown after a rollback, and a
 * connection whose rollback fails is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, retries = 2): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const c = await pool.connect();
    // While checked out the pool listens no more: an error between two queries must not crash.
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    c.on('error', onError);
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      broken = lost ?? (await c.query('ROLLBACK').then(() => undefined, (e: Error) => e));
      if (attempt < retries && RETRYABLE.has(pgCode(err)) && !broken) continue;
      throw err;
    } finally {
      c.off('error', onError);
      c.release(broken ?? lost);
    }
  }
}

/** Text PostgreSQL accepts: NUL is the one character a TEXT value cannot hold. */
export function pgText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}

/**
 * BIGINT refuses 1.7e12 + 0.4: a fractional time (a JWT `iat` may be fractional) is truncated to the
 * millisecond instead of failing the whole batch (SQLite would have stored it as a REAL).
 */
export function pgInt<T>(value: T): T {
  return (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : value) as T;
}

/** JSON.stringify escapes NUL and lone surrogates, both of which JSONB refuses: make them U+FFFD. */
const BAD_JSON_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

export function pgJson(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  return text.includes('\\u') ? text.replace(BAD_JSON_ESCAPE, '$1\\ufffd') : text;
}
