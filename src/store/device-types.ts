// The device part of the store (src/devices): WebAuthn devices with their approval state and
// posture, and which sessions are bound to which device (so a revocation or a posture report finds
// them). SQLite and PostgreSQL implement it; test/store/conformance-devices.ts runs both.
import type { PostureFact } from '../policy/types.js';

export type DeviceState = 'pending' | 'approved' | 'revoked';

export interface DeviceRecord {
  id: string;
  /** Who enrolled it: the lower-cased email, or `issuer subject` for identities without one. */
  owner: string;
  email: string | null;
  name: string;
  /** WebAuthn credential id and COSE public key, base64url. */
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  attachment: 'platform' | 'cross-platform' | null;
  state: DeviceState;
  enrolledAt: number;
  approvedAt: number | null;
  approvedBy: string | null;
  revokedAt: number | null;
  revokedBy: string | null;
  lastAssertionAt: number | null;
  /** Reported facts, each with its report time. */
  posture: Record<string, PostureFact>;
  /** When the last posture report arrived. */
  postureAt: number | null;
}

export interface DeviceStore {
  create(d: DeviceRecord): Promise<void>;
  get(id: string): Promise<DeviceRecord | null>;
  byCredential(credentialId: string): Promise<DeviceRecord | null>;
  /** Oldest enrolment first. */
  list(q: { owner?: string; state?: DeviceState }): Promise<DeviceRecord[]>;
  /** Read-modify-write in one durable transaction (concurrent updates never lose one); null when unknown. */
  update(id: string, change: (d: DeviceRecord) => DeviceRecord): Promise<DeviceRecord | null>;
  /** Records that the session proved the device (durable). */
  bind(sessionId: string, deviceId: string, at: number): Promise<void>;
  /** Live (unrevoked, unexpired) sessions bound to the device. */
  boundSessions(deviceId: string, now: number): Promise<string[]>;
}
