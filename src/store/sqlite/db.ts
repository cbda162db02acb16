// Opening the SQLite file: directory, integrity check, pragmas, migrations — and the small error
// helpers the store needs (busy detection, short retries). A corrupt file is a hard stop: starting
// with an empty store would silently forget every revocation.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js';

/** The file is not a SQLite database or fails `PRAGMA quick_check`. */
export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `SQLite store ${file} is corrupt (${detail}). Gatehouse will not start with it: an empty store would ` +
        `forget every revocation. Restore ${file} from a backup, or move it aside (together with ` +
        `${file}-wal and ${file}-shm, e.g. "mv ${file} ${file}.corrupt") to start with an empty store.`,
    );
    this.name = 'StoreCorruptError';
  }
}

/** Busy timeout while opening and migrating: nothing is being served yet, so waiting is fine. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

export function openDatabase(file: string, busyTimeoutMs: number, migrations: readonly Migration[] = SQLITE_MIGRATIONS): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: OPEN_BUSY_TIMEOUT_MS });
    // The first statement reads the header: a file that is not SQLite fails here (SQLITE_NOTADB).
    db.pragma('journal_mode = WAL');
    const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
    if (rows.length !== 1 || rows[0]?.quick_check !== 'ok') {
      throw new StoreCorruptError(file, `quick_check: ${rows.slice(0, 3).map((r) => r.quick_check).join('; ')}`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file, migrations);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof StoreCorruptError) throw err;
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw new StoreCorruptError(file, (err as Error).message);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot open SQLite store ${file}: ${message}`, { cause: err });
  }
}

function migrate(db: Database.Database, file: string, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const current = db.prepare('SELECT max(version) FROM schema_migrations').pluck();
  const known = migrations.at(-1)?.version ?? 0;
  const found = (current.get() as number | null) ?? 0;
  if (found > known) {
    throw new Error(
      `SQLite store ${file} has schema version ${found}, newer than this Gatehouse knows (${known}): ` +
        'upgrade Gatehouse, or restore a backup made by this version',
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    // IMMEDIATE + re-check inside: two processes starting at once apply each migration once.
    db.transaction(() => {
      if (((current.get() as number | null) ?? 0) >= m.version) return;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

export function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a synchronous write, retrying on SQLITE_BUSY with short awaits in between (the event loop
 * keeps serving traffic while we wait). Each attempt blocks for at most the busy timeout.
 */
export async function retryBusy<T>(fn: () => T, delaysMs: readonly number[] = [25, 75, 200]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (!isBusy(err) || delay === undefined) throw err;
      await sleep(delay);
    }
  }
}

/** A durable write: synchronous=FULL for this one IMMEDIATE transaction, then back to NORMAL. */
export function durably<T>(db: Database.Database, fn: () => T): Promise<T> {
  return retryBusy(() => {
    db.pragma('synchronous = FULL');
    try {
      return db.transaction(fn).immediate();
    } finally {
      db.pragma('synchronous = NORMAL');
    }
  });
}
