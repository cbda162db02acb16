// What the admin API reads and may change, and nothing more: the routes never see the gateway.
// gateway.ts (the composition root) builds one AdminDeps; a test can build its own from real parts.
import type { RecentAllowed } from '../audit/recent-allowed.js';
import type { Revoker } from '../auth/revoker.js';
import type { GatewayConfig } from '../config/types.js';
import type { StoreReader } from '../store/types.js';
import type { AdminRouter } from './server.js';

/**
 * The audit store's read side (revocation goes through the revoker): every call bounded. With
 * SQLite it is the admin read worker (store/sqlite/read-worker.ts), off the data plane's event loop.
 */
export type AdminStore = StoreReader;

export interface AdminDeps {
  store: AdminStore;
  revoker: Pick<Revoker, 'revokeSession' | 'revokeUser' | 'revokeApp' | 'appCutoff'>;
  /** The running config (a reload replaces it; read it per request). */
  config(): GatewayConfig;
  /** Writes the audit records still queued, so a read sees the request that just happened. */
  flush(): Promise<void>;
  /** Ids of recent allowed requests (not recorded one by one). */
  recentAllowed: Pick<RecentAllowed, 'find'>;
}

/** Where the admin API is installed: the admin listener's router and the deps its routes get. */
export interface AdminHost {
  readonly adminRouter: AdminRouter;
  readonly adminDeps: AdminDeps;
}
