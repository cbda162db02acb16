// `gatehouse backup --config FILE --out FILE`: a consistent copy of the SQLite store while the
// gateway runs. It uses SQLite's online backup API (better-sqlite3's db.backup()), which copies
// committed pages including those still in the -wal file; copying gatehouse.db with cp can miss
// them or catch a half-written page. PostgreSQL stores are backed up with pg_dump.
import { chmod, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { parseCommandArgs, UsageError } from './cli-args.js';
import { loadConfig } from './config/load.js';

export async function backup(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, out: { type: 'string' } });
  if (typeof values.out !== 'string') throw new UsageError('--out FILE is required');
  const out = resolve(values.out);
  if (await stat(out).then(() => true, () => false)) throw new UsageError(`${values.out} exists: give a new file name (a backup never overwrites one)`);
  const config = await loadConfig(resolve(String(values.config ?? 'gateway.yaml')));
  const file = config.store.sqlite;
  if (!file || file === ':memory:') {
    throw new UsageError(config.store.postgres ? 'the store is PostgreSQL: back it up with pg_dump' : 'the store is in memory: nothing to back up');
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const { totalPages } = await db.backup(out);
    // The audit holds identities and client addresses: the copy is as private as the store.
    await chmod(out, 0o600);
    console.log(`${values.out}: backup of ${file} (${totalPages} pages)`);
  } finally {
    db.close();
  }
  return 0;
}
