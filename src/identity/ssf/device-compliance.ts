// CAEP device-compliance-change → a Gatehouse device's `compliant` posture fact (source ssf).
// Subjects that name a Gatehouse device (its id, `dev_…`, as shown on the devices page and in
// GET /admin/devices):
//   {format: complex, device: {format: opaque, id: "dev_…"}, user: …}   the device member
//   {format: opaque, id: "dev_…"}                                      the whole subject
// Any other device (an IdP's or MDM's own id) is only recorded per user, as before: Gatehouse
// cannot tell which of its devices that is.
import type { Subject } from './subjects.js';

/** The devices room's side (src/devices/service.ts implements it), handed to installSsf. */
export interface DeviceCompliance {
  /**
   * Sets the device's `compliant` fact (reported now, source ssf) and re-decides the sessions bound
   * to it; resolves with how many changed, or null when Gatehouse has no such (unrevoked) device.
   */
  setCompliance(deviceId: string, compliant: boolean, eventId: string): Promise<number | null>;
}

/** The Gatehouse device id a subject may name: the complex subject's opaque device, or an opaque subject. */
export function deviceIdOf(subject: Subject): string | null {
  if (subject.deviceId) return subject.deviceId;
  const m = subject.match;
  return subject.device === null && m !== null && 'sessionId' in m ? m.sessionId : null;
}

/**
 * Applies the status to the Gatehouse device the subject names, if any. `opaque` ids name a
 * session elsewhere; here one that is a known device is taken as the device (`subjectIsDevice`).
 */
export async function applyDeviceCompliance(
  devices: DeviceCompliance | undefined,
  subject: Subject,
  status: string,
  jti: string,
): Promise<{ outcome: string; subjectIsDevice: boolean } | null> {
  const id = devices ? deviceIdOf(subject) : null;
  if (!devices || !id) return null;
  const n = await devices.setCompliance(id, status === 'compliant', jti);
  if (n === null) return null;
  return { outcome: `device ${id} compliant ${status === 'compliant'}; ${n} bound session${n === 1 ? '' : 's'} re-decided`, subjectIsDevice: !subject.deviceId };
}
