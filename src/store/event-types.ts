// What the store keeps for identity events received from outside (identity/ssf/ and other push
// channels): the event ids already received, so a replayed event is refused on every instance and
// after a restart, and each device's last reported compliance (CAEP device-compliance-change), per
// subject, for policies to use. Times are epoch milliseconds.

export interface DeviceCompliance {
  /** Who the device belongs to, as the transmitter named them (`email ann@corp.example`), or '' when only the device was named. */
  subject: string;
  /** The device, as the transmitter named it (`iss_sub https://idp|dev-1`, `opaque dev-1`). */
  device: string;
  /** `compliant` or `not-compliant` (CAEP's current_status). */
  status: string;
  time: number;
  /** Which channel reported it (`ssf`), and the event (the SET's jti). */
  source: string;
  eventId: string | null;
}

export interface EventStore {
  /**
   * Marks event `id` of `channel` (e.g. `ssf:okta`) received, kept until `expiresAt`. True the first
   * time; false when it was received before (a replay), by this instance or any other. Durable
   * before it resolves, so a replay after a crash is refused too.
   */
  firstSeen(channel: string, id: string, expiresAt: number, now: number): Promise<boolean>;
  /** Forgets a mark (the event could not be applied after all: its retry is not a replay). */
  forget(channel: string, id: string): Promise<void>;
  /** Records the device's status; returns the status it had before (null: none recorded). */
  setDeviceCompliance(d: DeviceCompliance): Promise<string | null>;
  /** Every device recorded for the subject, most recent first. */
  deviceCompliance(subject: string): Promise<DeviceCompliance[]>;
}
