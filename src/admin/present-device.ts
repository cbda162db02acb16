// Devices as the admin API and the identity page show them (JSON, snake_case, ISO times). A posture
// fact older than posture.max_age is shown with stale: true (policies treat it as unknown).
import type { DeviceFacts, PostureFact } from '../policy/types.js';
import type { DeviceRecord } from '../store/device-types.js';
import { aaguidName } from '../policy/aaguids.js';

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export function presentPosture(posture: Record<string, PostureFact>, maxAgeMs: number, now = Date.now()) {
  return Object.fromEntries(
    Object.entries(posture).map(([k, f]) => [k, { value: f.value, reported_at: iso(f.at), stale: now - f.at > maxAgeMs, source: f.source ?? 'report' }]),
  );
}

/** The device bound to a session (session record, identity page, GET /admin/sessions/{id}). */
export function presentBoundDevice(d: DeviceFacts | undefined, maxAgeMs: number) {
  if (!d) return null;
  return {
    id: d.id,
    name: d.name,
    authenticator: { attachment: d.attachment, aaguid: d.aaguid, name: d.aaguidName ?? null },
    enrolled_at: iso(d.enrolledAt),
    approved_at: iso(d.approvedAt),
    last_assertion_at: iso(d.lastAssertionAt),
    posture: presentPosture(d.posture, maxAgeMs),
  };
}

export function presentDeviceRecord(d: DeviceRecord, maxAgeMs: number) {
  return {
    id: d.id,
    name: d.name,
    owner: d.owner,
    email: d.email,
    state: d.state,
    authenticator: { attachment: d.attachment, aaguid: d.aaguid, name: aaguidName(d.aaguid) ?? null, transports: d.transports },
    enrolled_at: iso(d.enrolledAt),
    approved_at: iso(d.approvedAt),
    approved_by: d.approvedBy,
    revoked_at: iso(d.revokedAt),
    revoked_by: d.revokedBy,
    last_assertion_at: iso(d.lastAssertionAt),
    posture: presentPosture(d.posture, maxAgeMs),
    posture_reported_at: iso(d.postureAt),
  };
}

