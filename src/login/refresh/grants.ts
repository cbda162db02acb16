// Refresh tokens at rest: sealed with AES-256-GCM under a key derived by HKDF from the session
// signing keys (seal.ts), bound to the session id (a sealed token copied to another session's row
// does not open), stored with the session's refresh schedule (store/live-types.ts). The clear token
// exists only in memory, during sign-in and during one refresh; never in the store, logs or admin API.
import type { Logger } from '../../log.js';
import type { RefreshGrant, RefreshStore } from '../../store/live-types.js';
import type { OidcProvider } from '../oidc.js';
import type { Sealer } from '../seal.js';

const PURPOSE = 'refresh token';

export class RefreshGrants {
  private readonly warned = new Set<string>();

  constructor(
    private readonly store: RefreshStore,
    private readonly sealer: Sealer,
    private readonly logger: Logger,
  ) {}

  /** At sign-in: keeps the session's refresh token (sealed) and schedules its first refresh. */
  async register(sessionId: string, provider: OidcProvider, refreshToken: string | null, now: number): Promise<void> {
    const every = provider.cfg.refreshMs;
    if (every === undefined) return;
    if (!refreshToken) {
      // The session works as before (identity fixed at sign-in); say so once per provider.
      if (!this.warned.has(provider.id)) this.logger.warn({ idp: provider.id }, 'refresh is on but the provider sent no refresh token (allow offline_access or the refresh_token grant for this client); these sessions are not refreshed');
      this.warned.add(provider.id);
      return;
    }
    try {
      await this.store.put({
        sessionId,
        idp: provider.id,
        sealed: this.seal(sessionId, refreshToken),
        nextAt: now + every,
        lastAttemptAt: now,
        lastOkAt: now,
        staleAt: now + provider.cfg.refreshMaxStaleMs,
      });
    } catch (err) {
      this.logger.error({ err, idp: provider.id, sessionId }, 'refresh token not stored; this session is not refreshed');
    }
  }

  seal(sessionId: string, refreshToken: string): string {
    return this.sealer.seal(PURPOSE, refreshToken, sessionId);
  }

  /** The clear refresh token, or null when it does not open (its key left the key set). */
  open(grant: RefreshGrant): string | null {
    return this.sealer.open<string>(PURPOSE, grant.sealed, grant.sessionId);
  }
}
