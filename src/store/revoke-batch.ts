// Store.revokeSessions, shared by both stores: which history entries go with a batch revocation.
import type { IdentityChange } from './identity-types.js';

/** The first history entry of each session the call revoked, in the order revoked. */
export function entriesOf(revoked: string[], history: IdentityChange[]): IdentityChange[] {
  const first = new Map<string, IdentityChange>();
  for (const h of history) if (!first.has(h.sessionId)) first.set(h.sessionId, h);
  return revoked.flatMap((id) => first.get(id) ?? []);
}
