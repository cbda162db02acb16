// Picks the store the config asks for. Each driver is loaded on demand (dynamic import), so a
// gateway never loads the one it does not use: pg only with store.postgres, better-sqlite3 only
// with store.sqlite.
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store, StoreReader } from './types.js';

export async function openStore(config: GatewayConfig['store'], logger: Logger): Promise<Store> {
  const started = Date.now();
  if (config.postgres) {
    const { openPostgresStore } = await import('./postgres/store.js');
    const store = await openPostgresStore(config.postgres, { logger, ...(config.postgresTls ? { tls: config.postgresTls } : {}) });
    logger.info({ store: 'postgres', target: store.target, schema: store.schema, ms: Date.now() - started }, 'audit store opened');
    return store;
  }
  if (!config.sqlite) throw new Error('no store configured: set store.sqlite to a file path');
  const { openSqliteStore } = await import('./sqlite/store.js');
  const store = await openSqliteStore(config.sqlite);
  logger.info({ store: 'sqlite', file: store.file, ms: Date.now() - started }, 'audit store opened');
  return store;
}

/**
 * The admin API's reads: for SQLite a worker thread with its own read-only connection (so no admin
 * read runs on the event loop that proxies requests); PostgreSQL's reads are async already.
 */
export async function openAdminReader(store: Store): Promise<{ reader: StoreReader; close(): Promise<void> }> {
  if (store.kind !== 'sqlite') return { reader: store, close: async () => undefined };
  const { SqliteReadWorker } = await import('./sqlite/read-worker.js');
  const reader = new SqliteReadWorker((store as Store & { file: string }).file);
  return { reader, close: () => reader.close() };
}
