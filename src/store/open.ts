// Picks the store the config asks for. The SQLite store is loaded on demand like the PostgreSQL one
// will be, so a gateway never loads the driver it does not use.
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from './types.js';

export async function openStore(config: GatewayConfig['store'], logger: Logger): Promise<Store> {
  if (config.postgres) {
    throw new Error('store.postgres is not implemented yet: use store.sqlite (a file path) for now');
  }
  if (!config.sqlite) throw new Error('no store configured: set store.sqlite to a file path');
  const { openSqliteStore } = await import('./sqlite.js');
  const started = Date.now();
  const store = await openSqliteStore(config.sqlite);
  logger.info({ store: 'sqlite', file: store.file, ms: Date.now() - started }, 'audit store opened');
  return store;
}
