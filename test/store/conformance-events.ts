// Conformance cases for received identity events (EventStore): replay marks that hold across
// store handles and expire, and device compliance per subject. The same on SQLite and PostgreSQL.
import type { Test } from 'tap';
import { fresh, type OpenStore } from './conformance.js';
import { T0 } from './records.js';

export function eventCases(t: Test, open: OpenStore): void {
  t.test('events: an event id is new once per channel, until it expires', async (t) => {
    const store = await fresh(t, open);
    t.equal(await store.events.firstSeen('ssf:okta', 'jti-1', T0 + 1000, T0), true);
    t.equal(await store.events.firstSeen('ssf:okta', 'jti-1', T0 + 1000, T0 + 10), false, 'a replay');
    t.equal(await store.events.firstSeen('ssf:entra', 'jti-1', T0 + 1000, T0 + 10), true, 'another channel has its own ids');
    const racing = await Promise.all([1, 2, 3, 4].map(() => store.events.firstSeen('ssf:okta', 'jti-2', T0 + 1000, T0)));
    t.equal(racing.filter(Boolean).length, 1, 'of concurrent receivers exactly one wins');
    t.equal(await store.events.firstSeen('ssf:okta', 'jti-1', T0 + 5000, T0 + 1000), true, 'an expired mark is forgotten');
    await store.events.forget('ssf:okta', 'jti-1');
    t.equal(await store.events.firstSeen('ssf:okta', 'jti-1', T0 + 5000, T0 + 1000), true, 'a forgotten mark (not applied after all) is new again');
  });

  t.test('events: device compliance per subject and device, with the previous status', async (t) => {
    const store = await fresh(t, open);
    const d = { subject: 'email ann@corp.example', device: 'opaque laptop-1', source: 'ssf' };
    t.equal(await store.events.setDeviceCompliance({ ...d, status: 'compliant', time: T0, eventId: 'e1' }), null);
    t.equal(await store.events.setDeviceCompliance({ ...d, status: 'not-compliant', time: T0 + 1, eventId: 'e2' }), 'compliant');
    await store.events.setDeviceCompliance({ ...d, device: 'opaque phone-2', status: 'compliant', time: T0 + 2, eventId: 'e3' });
    t.same(await store.events.deviceCompliance('email ann@corp.example'), [
      { ...d, device: 'opaque phone-2', status: 'compliant', time: T0 + 2, eventId: 'e3' },
      { ...d, status: 'not-compliant', time: T0 + 1, eventId: 'e2' },
    ]);
    t.same(await store.events.deviceCompliance('email bob@corp.example'), []);
  });
}
