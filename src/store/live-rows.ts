// Rows of session_refresh (both stores) to RefreshGrant.
import type { RefreshGrant } from './live-types.js';

export interface GrantRow {
  session_id: string;
  idp: string;
  sealed: string;
  next_at: number | string;
  last_attempt_at: number | string;
  last_ok_at: number | string;
  stale_at: number | string;
  failing_since: number | string | null;
}

export function grantFromRow(r: GrantRow): RefreshGrant {
  return {
    sessionId: r.session_id,
    idp: r.idp,
    sealed: r.sealed,
    nextAt: Number(r.next_at),
    lastAttemptAt: Number(r.last_attempt_at),
    lastOkAt: Number(r.last_ok_at),
    staleAt: Number(r.stale_at),
    failingSince: r.failing_since === null ? null : Number(r.failing_since),
  };
}
