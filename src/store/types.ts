// The store interface: what the session audit records and what the admin API reads. SQLite
// (store/sqlite.ts) and PostgreSQL (store/postgres.ts) implement it; test/store/conformance.ts
// runs the same cases against both. Times are epoch milliseconds. Never a raw token anywhere.
import type { DeviceStore } from './device-types.js';
import type { ScimStore } from './scim-types.js';
import type { EventStore } from './event-types.js';
import type { RefreshStore } from './live-types.js';
import type { IdentityChange, IdentityStore } from './identity-types.js';
import type { ActionStore } from './action-types.js';
import type { SessionCountQuery, SessionQuery } from './query-types.js';
export type { SessionCountQuery, SessionQuery } from './query-types.js';
export type { IdentityChange, IdentityStore, IdentityVersionWrite, LiveIdentityRow, SessionSelector } from './identity-types.js';

export interface SessionRecord {
  id: string;
  kind: 'session' | 'token' | 'service';
  userId: string;
  email: string | null;
  name: string | null;
  idp: string | null;
  issuer: string;
  groups: string[];
  amr: string[];
  /** Verified claims minus audit.redact_claims. */
  claims: Record<string, unknown>;
  network: {
    loginIp: string | null;
    loginUserAgent: string | null;
    loginCountry: string | null;
    lastIp: string | null;
    lastUserAgent: string | null;
  };
  device: { certSubject?: string; certFingerprint?: string } | null;
  issuedAt: number;
  expiresAt: number;
  firstSeenAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: string | null;
  /** The sign-in this session belongs to (gateway sessions; null for others and older ones). */
  loginId: string | null;
  /** The IdP's session id (`sid`) at sign-in, for OIDC back-channel logout. */
  idpSid?: string | null;
  /** 0 = as signed in; every live identity change adds one (identity/changes.ts). */
  identityVersion?: number;
  /** The live identity overlay's state for this session (identity/overlay.ts LiveState), when changed. */
  liveState?: Record<string, unknown> | null;
}

/** Insert-or-touch: a new session is inserted whole; a known one gets last-seen fields updated. */
export type SessionUpsert = Omit<SessionRecord, 'revokedAt' | 'revokedBy' | 'revokeReason' | 'loginId' | 'identityVersion' | 'liveState'> & { loginId?: string | null };

export interface AppActivity {
  sessionId: string;
  app: string;
  /** How many requests this record stands for (aggregated allows). */
  count: number;
  firstSeenAt: number;
  lastSeenAt: number;
  lastPath: string;
}

export interface DecisionRecord {
  requestId: string;
  time: number;
  app: string;
  sessionId: string | null;
  email: string | null;
  method: string;
  host: string;
  /** Path without the query string. */
  path: string;
  clientIp: string;
  /** not_found and error: the request got an error page (404; 400, 502, 504, 500) with its id. */
  outcome: 'allow' | 'deny' | 'bypass' | 'unauthenticated' | 'not_found' | 'error';
  policy: string | null;
  /**
   * A policy reason (policy_allow, no_policy_matched …), a token reason (expired …), or for
   * not_found / error the error code (route_not_found, upstream_unavailable …); `reasons` then holds
   * the cause (the upstream and its error code). `app` is '' when no app matched.
   */
  reason: string;
  reasons: string[];
  configHash: string;
  /** The identity version the decision was made on (0: as signed in; null: no identity). */
  identityVersion?: number | null;
}


export interface RecordBatch {
  sessions: SessionUpsert[];
  activity: AppActivity[];
  decisions: DecisionRecord[];
}

export interface Page<T> {
  items: T[];
  /** Null on the last page. A page may hold fewer than `limit` items (even none) when it is not the last. */
  nextCursor: string | null;
}

/** One page of a list: at most `limit` (1..1000, clamped) items after `cursor` (a previous `nextCursor`). */
export interface PageQuery {
  limit: number;
  /** An opaque `nextCursor` from the previous page; a bad one throws StoreQueryError('cursor'). */
  cursor?: string;
}

/**
 * Sessions that used the app and may still use it at `activeAt` (not revoked, expired or cut off),
 * by the app's last activity, newest first (ties: id descending). Each page reads a bounded number
 * of rows, so one over many unusable sessions may come back short, or empty, with a next cursor.
 */
export interface AppSessionQuery extends PageQuery {
  app: string;
  activeAt: number;
}

/** Users (by email, case-insensitive), in email order: a key that never changes, so paging is exact. */
export interface UserQuery extends PageQuery {
  /** Reference time for the active-session count. */
  now: number;
}

/** Decisions ordered by time desc (newest first). Filters combine with AND. */
export interface DecisionQuery {
  requestId?: string;
  email?: string;
  app?: string;
  outcome?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  sessionId?: string;
  limit: number;
  cursor?: string;
}

/** What every instance must know in memory to refuse revoked sessions on a cache hit. */
export interface RevocationState {
  sessionIds: string[];
  /** App name → epoch ms: sessions issued before it must log in again for that app. */
  appCutoffs: Record<string, number>;
  /** Live sessions whose identity changed (version > 0): each instance loads the newer states. */
  identities?: Array<{ sessionId: string; version: number }>;
}

export interface UserSummary {
  email: string;
  name: string | null;
  activeSessions: number;
  lastSeenAt: number;
}

/** A sign-in throttle key's state: recent failures (epoch ms, oldest first) and the lock in force. */
export interface ThrottleEntry {
  failures: number[];
  lockedUntil: number;
  /** Failures that caused the current lock. */
  lockedAfter: number;
  /** When the entry means nothing any more (last failure + window, or the lock's end). */
  expiresAt: number;
}

/**
 * Sign-in state that every instance must see, because one sign-in's steps may reach different
 * instances: single-use values (handoff codes), marks that only move forward (a finished OIDC flow,
 * the last TOTP step used) and throttle entries. A shared store (PostgreSQL) keeps it in tables and
 * the database enforces single use; otherwise it lives in memory (login/memory-state.ts).
 */
export interface SignInState {
  /** Keeps `value` under `key` until `expiresAt`. */
  putOnce(key: string, value: string, expiresAt: number): Promise<void>;
  /** The value, removed: of concurrent takers exactly one gets it. Null when absent or expired. */
  takeOnce(key: string, now: number): Promise<string | null>;
  /**
   * Raises the mark under `key` to `value` and returns true when it was lower (or absent or expired);
   * false when it is already at `value` or above. Of concurrent callers with one value, one wins.
   */
  advance(key: string, value: number, expiresAt: number, now: number): Promise<boolean>;
  /** Entries for these keys that have not expired (missing keys are left out). */
  throttleEntries(keys: string[], now: number): Promise<Map<string, ThrottleEntry>>;
  /** Atomic read-modify-write of one entry (null: delete). Returns what was written. */
  updateThrottle(key: string, now: number, update: (current: ThrottleEntry | null) => ThrottleEntry | null): Promise<ThrottleEntry | null>;
  /** Every entry locked at `now`. */
  lockedEntries(now: number): Promise<Map<string, ThrottleEntry>>;
  /** Removes the entry; returns what it was. */
  deleteThrottle(key: string, now: number): Promise<ThrottleEntry | null>;
}

/**
 * What the admin API (and a console or SCIM view) reads: every call returns a bounded amount. With
 * SQLite the gateway serves these from a worker thread (store/sqlite/read-worker.ts) so a heavy
 * read never runs on the event loop that proxies requests.
 */
export type StoreReader = Pick<
  Store,
  | 'getSession'
  | 'listSessions'
  | 'countSessions'
  | 'sessionActivity'
  | 'appSessions'
  | 'listUsers'
  | 'userSummary'
  | 'userSessions'
  | 'identityHistory'
  | 'listDecisions'
  | 'appIdentities'
> & { readonly identities: Pick<IdentityStore, 'sessionHistory'>; readonly actions: Pick<ActionStore, 'list'> };

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Shared stores only: sign-in state in the database, so any instance finishes any sign-in. */
  readonly signIn?: SignInState;
  /** SCIM 2.0 users, groups and memberships (scim-types.ts). */
  readonly scim: ScimStore;
  readonly identities: IdentityStore;
  /** Identity events received from outside: replay marks and device compliance (event-types.ts). */
  readonly events: EventStore;
  /** Sealed refresh tokens, refresh schedule and leases (identity refresh, live-types.ts). */
  readonly refresh: RefreshStore;
  /** WebAuthn devices, their posture and session bindings (device-types.ts). */
  readonly devices: DeviceStore;
  /** The admin actions audit: revocations, approvals, lockout lifts (action-types.ts). */
  readonly actions: ActionStore;
  /**
   * Writes one batch in one transaction. Throws on failure; the writer keeps the batch. A new
   * session is inserted whole (and compared with the user's previous session from the same issuer
   * and IdP for identity history); a known one only gets last_seen_at/last_ip/last_user_agent
   * updated. Activity adds up per session × app and advances the session's last_seen_at; activity
   * for a session id the store does not know is ignored (it never fails the batch).
   */
  writeBatch(batch: RecordBatch): Promise<void>;
  /**
   * Durable before it resolves. Returns false for an unknown session id. An already revoked
   * session keeps its first revocation and returns true.
   */
  revokeSession(id: string, by: string, reason: string, at: number): Promise<boolean>;
  /** Revokes every unrevoked session of the user; returns their ids. */
  revokeUser(email: string, by: string, reason: string, at: number): Promise<string[]>;
  /** Revokes every unrevoked session of one sign-in (login_id); returns their ids. */
  revokeLogin(loginId: string, by: string, reason: string, at: number): Promise<string[]>;
  /**
   * Revokes these sessions at once: one durable transaction (with PostgreSQL one notification for
   * the set), holding the history entry of each session it revokes (`history`, by session id).
   * Unknown and already revoked ids are skipped (an earlier revocation is kept). Returns the ids
   * revoked now.
   */
  revokeSessions(ids: string[], by: string, reason: string, at: number, history?: IdentityChange[]): Promise<string[]>;
  /** Sessions issued before `at` must log in again for `app` (a later cutoff only moves it forward). */
  revokeApp(app: string, at: number): Promise<void>;
  /** Every revoked session id still in the store, and every app cutoff. */
  loadRevocations(): Promise<RevocationState>;
  getSession(id: string): Promise<SessionRecord | null>;
  listSessions(q: SessionQuery): Promise<Page<SessionRecord & { apps: string[] }>>;
  /** How many sessions match the filters of a list (every page together), counted up to max + 1. */
  countSessions(q: SessionCountQuery, max: number): Promise<number>;
  /** Per-app activity of one session, most recent first. */
  sessionActivity(id: string): Promise<AppActivity[]>;
  /** Sessions that used the app and are usable at `activeAt`: not revoked, not expired, not cut off. */
  appSessions(q: AppSessionQuery): Promise<Page<SessionRecord & { activity: AppActivity }>>;
  /** Users (by email) with sessions in the store, in email order. */
  listUsers(q: UserQuery): Promise<Page<UserSummary>>;
  /** One user's summary (as in listUsers), or null when the store has no session with that email. */
  userSummary(email: string, now: number): Promise<UserSummary | null>;
  /** The user's `limit` newest sessions (by issue time), newest first. */
  userSessions(email: string, limit: number): Promise<SessionRecord[]>;
  /** The user's `limit` newest identity changes, newest first. */
  identityHistory(email: string, limit: number): Promise<IdentityChange[]>;
  listDecisions(q: DecisionQuery): Promise<Page<DecisionRecord>>;
  /**
   * Latest recorded identity per user who used the app since `since` (for what-if policy tests),
   * most recently seen first, at most `limit` of them.
   * A user is an email, or issuer + user id for sessions without one (service tokens).
   */
  appIdentities(app: string, since: number, limit: number): Promise<SessionRecord[]>;
  /** Deletes decisions with time < before and sessions (with their activity) with expires_at < before. */
  purge(before: number): Promise<{ decisions: number; sessions: number }>;
  /**
   * Shared stores only (PostgreSQL): calls back with revocations made by other instances, as they
   * happen (LISTEN/NOTIFY) and as a full snapshot after every reconnect, so no instance misses one.
   */
  watchRevocations?(listener: (update: RevocationState) => void): void;
  /** Cheap write probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
