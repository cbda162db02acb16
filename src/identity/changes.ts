// The one entry point through which every channel changes a live identity: sign-in, refresh,
// SCIM, OIDC back-channel logout, shared signals (SSF/CAEP), the local users file, the admin API,
// device posture. A channel says WHICH sessions (a SessionMatch), WHAT changes (revoke, or an
// IdentityPatch), and WHO says so (a ChangeSource plus the event id it acted on); the
// implementation (live.ts) finds the sessions, applies the change where every request sees it on
// its next cache hit, and records it in the identity history.
//
// This file is a contract the channels code against: extend it, never change a shape.

import type { DeviceFacts } from '../policy/types.js';

/** Which live sessions a change applies to. */
export type SessionMatch =
  /** One session: the gateway session's jti, or the id of an external token's session. */
  | { sessionId: string }
  /** Every session of the user with this email (case-insensitive), however it was signed in. */
  | { email: string }
  /**
   * Every session of this subject at this issuer: an external issuer's tokens (`iss` = issuer), and
   * gateway sessions signed in through an OIDC provider whose `issuer` is this URL.
   */
  | { issuer: string; subject: string }
  /**
   * Every session an OIDC provider's own session (`sid`, OIDC Back-Channel Logout) started; with
   * `subject` (a logout token naming both sid and sub) only those of that subject.
   */
  | { provider: string; sid: string; subject?: string }
  /** Every session of this subject signed in through this identity provider (a local_users file's user). */
  | { provider: string; subject: string };

/** Who changed the identity (recorded with every change, and a metric label). */
export type ChangeSource = 'login' | 'refresh' | 'scim' | 'backchannel' | 'ssf' | 'users_file' | 'admin' | 'posture' | 'device';

export const CHANGE_SOURCES: readonly ChangeSource[] = ['login', 'refresh', 'scim', 'backchannel', 'ssf', 'users_file', 'admin', 'posture', 'device'];

/**
 * What changes. Every field is optional; what is absent stays as it is. Each change is relative to
 * the identity the session was signed in with (its token), not cumulative across sources:
 *
 *  - groups `replace`: the session's groups become exactly `values` (the IdP's answer on refresh,
 *    or SCIM with `scim.groups: replace`).
 *  - groups `merge`: `values` are this source's groups, added to the others; a later merge from the
 *    same source replaces that source's earlier contribution (so removing a SCIM group removes it,
 *    while the IdP's own groups stay).
 *  - claims: top-level claims to set; `null` removes a claim.
 *  - active: false revokes the matched sessions (as revoke() with reason `deactivated`).
 */
export interface IdentityPatch {
  groups?: { mode: 'replace' | 'merge'; values: string[] };
  claims?: Record<string, unknown>;
  /** Authentication methods (`amr`), e.g. after a CAEP assurance-level-change. */
  amr?: string[];
  name?: string;
  active?: false;
  /**
   * A device's compliance as the IdP or an MDM reports it (CAEP device-compliance-change), kept
   * per device id with the session's identity for the device selectors to use.
   */
  device?: { id: string; compliance: string };
  /** The device the session proved (device check), its new posture or approval; null unbinds it. */
  boundDevice?: DeviceFacts | null;
}

export interface IdentityChanges {
  /**
   * Revokes every live (unrevoked, unexpired) matched session: durable in the store first, then
   * refused on the next request by every process and instance. Resolves with the revoked ids
   * (empty when nothing matched). Rejects when the store cannot be written (nothing was revoked).
   */
  revoke(match: SessionMatch, source: ChangeSource, reason: string, eventId?: string): Promise<string[]>;
  /**
   * Applies the patch to every live matched session; each session whose identity actually changed
   * gets a new identity version, which its next request is decided on (never the older cached
   * one). Resolves with how many sessions changed (0 when nothing matched or nothing differed).
   */
  update(match: SessionMatch, patch: IdentityPatch, source: ChangeSource, eventId?: string): Promise<number>;
}

/** A readable description of a match, for logs and the history (`email ann@example.com`). */
export function describeMatch(m: SessionMatch): string {
  if ('sessionId' in m) return `session ${m.sessionId}`;
  if ('email' in m) return `email ${m.email}`;
  if ('sid' in m) return `provider ${m.provider} sid ${m.sid}${m.subject !== undefined ? ` subject ${m.subject}` : ''}`;
  if ('provider' in m) return `provider ${m.provider} subject ${m.subject}`;
  return `issuer ${m.issuer} subject ${m.subject}`;
}
