// What keeps identities live (identity/live.ts): identity versions, their history and how a
// change selects sessions. Part of the store interface (store/types.ts re-exports it).
import type { SessionRecord } from './types.js';

export interface IdentityChange {
  email: string;
  time: number;
  sessionId: string;
  /** e.g. { groups: { added: ["admins"], removed: [] }, claims: { changed: ["department"] } } */
  change: {
    groups?: { added: string[]; removed: string[] };
    claims?: { changed: string[] };
    amr?: { before: string[]; after: string[] };
    /** The session was revoked by this change. */
    revoked?: { reason: string };
    /** A device's reported compliance changed (CAEP device-compliance-change). */
    device?: { id: string; before: string | null; after: string };
    /** The bound device (its id: null when none) and the posture facts that changed. */
    boundDevice?: { before: string | null; after: string | null; posture?: string[]; approved?: boolean };
  };
  /** Who changed it: login (a new session compared with the previous one), refresh, scim, ssf … */
  source?: string;
  /** The session's identity version after the change (null for sign-in comparisons and revocations). */
  version?: number | null;
  /** The event the change acted on (SCIM request, logout token jti, SET jti …). */
  eventId?: string | null;
}

/** Which sessions a live identity change selects (identity/changes.ts SessionMatch, resolved). */
export type SessionSelector =
  | { id: string }
  | { email: string }
  /** user_id = userId and (issuer in issuers or idp in idps). */
  | { userId: string; issuers: string[]; idps: string[] }
  | { idp: string; sid: string };

/** A new identity version of one session, with its history entry. */
export interface IdentityVersionWrite {
  sessionId: string;
  /** The version the caller based the change on: nothing is written when the stored one differs. */
  expected: number;
  version: number;
  state: Record<string, unknown>;
  change: IdentityChange;
}

export interface LiveIdentityRow {
  sessionId: string;
  version: number;
  state: Record<string, unknown>;
}

/** What keeps identities live (identity/live.ts): finding sessions, versions, history. */
export interface IdentityStore {
  /** Unrevoked, unexpired sessions the selector names, with their identity version and state. */
  find(sel: SessionSelector, now: number): Promise<SessionRecord[]>;
  /**
   * One transaction: the session's version and state (only if its version is still `expected`) and
   * the history entry; with PostgreSQL also NOTIFYs the other instances. False when the version
   * moved meanwhile (another instance's change): re-read and retry.
   */
  write(w: IdentityVersionWrite): Promise<boolean>;
  /** A history entry without a new version (a revocation, say). */
  record(change: IdentityChange): Promise<void>;
  /** The session's identity history, newest first. */
  sessionHistory(id: string): Promise<IdentityChange[]>;
  /** Version and state of these sessions (those with version > 0). */
  states(ids: string[]): Promise<LiveIdentityRow[]>;
}
