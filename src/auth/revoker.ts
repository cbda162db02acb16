// Revocation, one way for every caller (admin API, logout, live identity changes): durable in the
// store first (a failure throws and nothing is claimed), then refused by this process's in-memory
// set on the very next request. Other instances learn it from the store (NOTIFY or resync).
import type { Identity } from '../policy/types.js';
import type { IdentityChange, Store } from '../store/types.js';
import type { RevocationSet } from './revocations.js';

/** The store calls revocation needs, and nothing else. */
export type RevocationStore = Pick<Store, 'revokeSession' | 'revokeUser' | 'revokeLogin' | 'revokeSessions' | 'revokeApp'>;

export class Revoker {
  constructor(
    private readonly store: RevocationStore,
    private readonly revocations: RevocationSet,
    /** Writes the queued audit records: a session seen moments ago may still sit in the write queue. */
    private readonly flush: () => Promise<void>,
  ) {}

  /** Revoke one session everywhere; true when the store knew it. */
  async revokeSession(id: string, by: string, reason: string): Promise<boolean> {
    await this.flush();
    const known = await this.store.revokeSession(id, by, reason, Date.now());
    if (known) this.revocations.revokeSession(id);
    return known;
  }

  /** Log a user out everywhere; returns the revoked session ids. */
  revokeUser(email: string, by: string, reason: string): Promise<string[]> {
    return this.revokeEach((at) => this.store.revokeUser(email, by, reason, at));
  }

  /** End one sign-in everywhere: every session linked to it (login_id); returns their ids. */
  revokeLogin(loginId: string, by: string, reason: string): Promise<string[]> {
    return this.revokeEach((at) => this.store.revokeLogin(loginId, by, reason, at));
  }

  private async revokeEach(write: (at: number) => Promise<string[]>): Promise<string[]> {
    await this.flush();
    const ids = await write(Date.now());
    for (const id of ids) this.revocations.revokeSession(id);
    return ids;
  }

  /**
   * Revokes these sessions (already flushed by the caller) in one store transaction with their
   * history entries — one notification to the other instances, however many sessions — then in
   * memory; returns the ids revoked now (an already revoked one keeps its first revocation).
   */
  async revokeSessions(ids: string[], by: string, reason: string, history?: IdentityChange[]): Promise<string[]> {
    const revoked = await this.store.revokeSessions(ids, by, reason, Date.now(), history);
    for (const id of revoked) this.revocations.revokeSession(id);
    return revoked;
  }

  /** Every session issued before now must log in again to use this app; returns the cutoff. */
  async revokeApp(app: string): Promise<number> {
    const at = Date.now();
    await this.store.revokeApp(app, at);
    this.revocations.revokeAppBefore(app, at);
    return at;
  }

  /** The app's cutoff in force in this process (epoch ms), if any. */
  appCutoff(app: string): number | undefined {
    return this.revocations.snapshot().appCutoffs[app];
  }

  /** The in-memory check the authenticate stage makes (session id or app cutoff). */
  isRevoked(identity: Identity, app: string): boolean {
    return this.revocations.isRevoked(identity, app);
  }

  /** In-memory only: refused by this process even when the store could not be written. */
  revokeInMemory(id: string): void {
    this.revocations.revokeSession(id);
  }
}
