// The session list's query (store/types.ts listSessions, countSessions): every filter the admin API
// and the console offer, applied by the store so paging and totals stay exact.

/** Sessions ordered by last_seen_at desc, id desc. Filters combine with AND. */
export interface SessionQuery {
  /** Exact, case-insensitive. */
  email?: string;
  /** user_id (the `sub`, or the service token's name). */
  user?: string;
  /** Sessions with recorded activity on this app. */
  app?: string;
  /** Sessions of one sign-in (login_id). */
  loginId?: string;
  /** The identity provider id, exactly. */
  idp?: string;
  /** Sessions whose groups include this one (exact). */
  group?: string;
  /** The sign-in country (as recorded from the country header), case-insensitive. */
  country?: string;
  /** An enrolled device's id: sessions bound to it; the string 'none': sessions bound to no device. */
  device?: string;
  /** Last seen at or after (epoch ms). */
  since?: number;
  /** true: not revoked and not expired at `now`; false: revoked or expired. */
  active?: boolean;
  /** Reference time for `active` (epoch ms); defaults to the current time. */
  now?: number;
  /** 1..1000 (clamped). */
  limit: number;
  /** An opaque `nextCursor` from the previous page; a bad one throws StoreQueryError('cursor'). */
  cursor?: string;
}

/** The filters of a list without its paging: countSessions counts every page together. */
export type SessionCountQuery = Omit<SessionQuery, 'limit' | 'cursor'>;
