// Devices, as the rest of the gateway sees them: enrol, bind to a session, approve, revoke, report
// posture. Every change that affects sessions goes through IdentityChanges: each session bound to
// the device gets a new identity version (durable, NOTIFY'd to other instances, in the identity
// history with its source), so its next request — and its open WebSockets — are decided on it.
// It also implements the SSF receiver's DeviceCompliance (identity/ssf/device-compliance.ts).
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/types.js';
import type { IdentityChanges, ChangeSource } from '../identity/changes.js';
import type { DeviceCompliance } from '../identity/ssf/device-compliance.js';
import type { Logger } from '../log.js';
import type { DeviceFacts, Identity, PostureFact } from '../policy/types.js';
import type { DeviceRecord, DeviceStore } from '../store/device-types.js';
import { aaguidName } from '../policy/aaguids.js';

export interface DevicesCore {
  readonly store: { readonly devices: DeviceStore };
  readonly identityChanges: IdentityChanges;
  readonly logger: Logger;
  readonly configs: { readonly current: GatewayConfig };
}

/** Whose device: the lower-cased email, or `issuer subject` for identities without one. */
export function ownerOf(id: Identity): string {
  return id.email ? id.email.toLowerCase() : `${id.issuer} ${id.subject}`;
}

/** What a session carries of its device (and policies see). */
export function factsOf(d: DeviceRecord): DeviceFacts {
  const name = aaguidName(d.aaguid);
  return {
    id: d.id,
    name: d.name,
    attachment: d.attachment,
    aaguid: d.aaguid,
    ...(name ? { aaguidName: name } : {}),
    enrolledAt: d.enrolledAt,
    approvedAt: d.approvedAt,
    lastAssertionAt: d.lastAssertionAt,
    posture: d.posture,
  };
}

export type Enrolled = Pick<DeviceRecord, 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'aaguid' | 'attachment'>;

export class Devices implements DeviceCompliance {
  constructor(private readonly h: DevicesCore) {}

  private get store(): DeviceStore {
    return this.h.store.devices;
  }

  get(id: string): Promise<DeviceRecord | null> {
    return this.store.get(id);
  }

  list(q: { owner?: string; state?: DeviceRecord['state'] }): Promise<DeviceRecord[]> {
    return this.store.list(q);
  }

  byCredential(credentialId: string): Promise<DeviceRecord | null> {
    return this.store.byCredential(credentialId);
  }

  /** The caller's devices that still count (not revoked). */
  async mine(id: Identity): Promise<DeviceRecord[]> {
    return (await this.store.list({ owner: ownerOf(id) })).filter((d) => d.state !== 'revoked');
  }

  /** A new device, approved at once or pending (devices.approval), bound to the enrolling session. */
  async enroll(id: Identity, name: string, cred: Enrolled): Promise<DeviceRecord> {
    const now = Date.now();
    const auto = (this.h.configs.current.devices?.approval ?? 'auto') === 'auto';
    const d: DeviceRecord = {
      id: `dev_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
      owner: ownerOf(id),
      email: id.email ?? null,
      name,
      ...cred,
      state: auto ? 'approved' : 'pending',
      enrolledAt: now,
      approvedAt: auto ? now : null,
      approvedBy: auto ? 'auto' : null,
      revokedAt: null,
      revokedBy: null,
      lastAssertionAt: now,
      posture: {},
      postureAt: null,
    };
    await this.store.create(d);
    await this.bind(id.sessionId, d);
    this.h.logger.info({ device: d.id, owner: d.owner, state: d.state }, 'device enrolled');
    return d;
  }

  /** The session proved the device (an assertion): record the binding and lay it on the session. */
  async asserted(sessionId: string, d: DeviceRecord, counter: number): Promise<DeviceRecord> {
    const now = Date.now();
    const next = (await this.store.update(d.id, (x) => ({ ...x, counter: Math.max(x.counter, counter), lastAssertionAt: now }))) ?? d;
    await this.bind(sessionId, next);
    return next;
  }

  private async bind(sessionId: string, d: DeviceRecord): Promise<void> {
    await this.store.bind(sessionId, d.id, Date.now());
    await this.h.identityChanges.update({ sessionId }, { boundDevice: factsOf(d) }, 'device');
  }

  approve(deviceId: string, by: string): Promise<DeviceRecord | null> {
    return this.change(deviceId, 'admin', (d) => (d.state === 'pending' ? { ...d, state: 'approved', approvedAt: Date.now(), approvedBy: by } : d));
  }

  /** Revoked by an admin or its owner: every session bound to it loses it on its next request. */
  revoke(deviceId: string, by: string): Promise<DeviceRecord | null> {
    return this.change(deviceId, by.startsWith('admin') ? 'admin' : 'device', (d) => (d.state === 'revoked' ? d : { ...d, state: 'revoked', revokedAt: Date.now(), revokedBy: by }));
  }

  /** A posture report: the facts replace those of the same name; the others keep their own times. */
  report(deviceId: string, facts: Record<string, PostureFact>, at: number): Promise<DeviceRecord | null> {
    return this.change(deviceId, 'posture', (d) => ({ ...d, posture: { ...d.posture, ...facts }, postureAt: at }));
  }

  /**
   * A shared signal (CAEP device-compliance-change) about this device: its `compliant` fact, with
   * source ssf and the SET's jti in the sessions' history. Null when there is no such live device.
   */
  async setCompliance(deviceId: string, compliant: boolean, eventId: string): Promise<number | null> {
    const known = await this.store.get(deviceId);
    if (!known || known.state === 'revoked') return null;
    const at = Date.now();
    const fact: PostureFact = { value: compliant, at, source: 'ssf' };
    const done = await this.apply(deviceId, 'ssf', (d) => ({ ...d, posture: { ...d.posture, compliant: fact }, postureAt: at }), eventId);
    return done ? done.sessions : null;
  }

  private async change(deviceId: string, source: ChangeSource, fn: (d: DeviceRecord) => DeviceRecord): Promise<DeviceRecord | null> {
    return (await this.apply(deviceId, source, fn, `device ${deviceId}`))?.device ?? null;
  }

  /** Changes the device, then lays it on every live session bound to it; how many changed. */
  private async apply(deviceId: string, source: ChangeSource, fn: (d: DeviceRecord) => DeviceRecord, eventId: string): Promise<{ device: DeviceRecord; sessions: number } | null> {
    const d = await this.store.update(deviceId, fn);
    if (!d) return null;
    const device = d.state === 'revoked' ? null : factsOf(d);
    let sessions = 0;
    for (const sessionId of await this.store.boundSessions(d.id, Date.now())) {
      sessions += await this.h.identityChanges.update({ sessionId }, { boundDevice: device }, source, eventId);
    }
    return { device: d, sessions };
  }
}
