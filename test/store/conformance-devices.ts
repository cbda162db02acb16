// Conformance cases for devices (store/device-types.ts): the same on SQLite and PostgreSQL.
import type { Test } from 'tap';
import type { DeviceRecord } from '../../src/store/device-types.js';
import { fresh, type OpenStore } from './conformance.js';
import { emptyBatch, HOUR, session, T0 } from './records.js';

export function device(id: string, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id,
    owner: 'ada@example.com',
    email: 'ada@example.com',
    name: `laptop ${id}`,
    credentialId: `cred-${id}`,
    publicKey: 'pk',
    counter: 0,
    transports: ['internal'],
    aaguid: '00000000-0000-0000-0000-000000000000',
    attachment: 'platform',
    state: 'approved',
    enrolledAt: T0,
    approvedAt: T0,
    approvedBy: 'auto',
    revokedAt: null,
    revokedBy: null,
    lastAssertionAt: null,
    posture: {},
    postureAt: null,
    ...over,
  };
}

export function deviceCases(t: Test, open: OpenStore): void {
  t.test('devices: create, read by id and credential, list by owner and state', async (t) => {
    const store = await fresh(t, open);
    await store.devices.create(device('d1'));
    await store.devices.create(device('d2', { state: 'pending', approvedAt: null, enrolledAt: T0 + 1 }));
    await store.devices.create(device('d3', { owner: 'bob@example.com', enrolledAt: T0 + 2 }));
    t.same(await store.devices.get('d1'), device('d1'), 'the record round-trips');
    t.equal((await store.devices.byCredential('cred-d2'))?.id, 'd2');
    t.equal(await store.devices.get('nope'), null);
    t.same((await store.devices.list({ owner: 'ada@example.com' })).map((d) => d.id), ['d1', 'd2']);
    t.same((await store.devices.list({ state: 'pending' })).map((d) => d.id), ['d2']);
    t.same((await store.devices.list({})).map((d) => d.id), ['d1', 'd2', 'd3']);
    await t.rejects(store.devices.create(device('d4', { credentialId: 'cred-d1' })), 'a credential is enrolled once');
  });

  t.test('devices: update is read-modify-write; concurrent updates keep both', async (t) => {
    const store = await fresh(t, open);
    await store.devices.create(device('d1', { state: 'pending', approvedAt: null }));
    const posture = (name: string, value: boolean) => store.devices.update('d1', (d) => ({ ...d, posture: { ...d.posture, [name]: { value, at: T0 } } }));
    await Promise.all([posture('firewall', true), posture('disk_encrypted', false), store.devices.update('d1', (d) => ({ ...d, state: 'approved', approvedAt: T0 + 5 }))]);
    const d = await store.devices.get('d1');
    t.same(d?.posture, { firewall: { value: true, at: T0 }, disk_encrypted: { value: false, at: T0 } });
    t.equal(d?.state, 'approved');
    t.same((await store.devices.list({ state: 'pending' })).map((x) => x.id), [], 'the state column follows the record');
    t.equal(await store.devices.update('nope', (x) => x), null);
  });

  t.test('devices: bound sessions are the live ones; a rebind moves the session', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1'), session('s2'), session('old', { expiresAt: T0 + HOUR }), session('rev')] });
    await store.revokeSession('rev', 'test', 'test', T0);
    for (const id of ['s1', 's2', 'old', 'rev']) await store.devices.bind(id, 'd1', T0);
    await store.devices.bind('s2', 'd2', T0 + 1);
    t.same(await store.devices.boundSessions('d1', T0 + 2 * HOUR), ['s1']);
    t.same(await store.devices.boundSessions('d2', T0 + 2 * HOUR), ['s2']);
  });
}
