// CAEP device-compliance-change sets a Gatehouse device's `compliant` posture fact (source ssf):
// signed SETs from a test transmitter (its JWKS served over HTTP) pushed to a real gateway with
// devices installed. The device is named by a complex subject's opaque device member or by an
// opaque subject; either way the sessions bound to it are re-decided on their next request (and
// their WebSockets), with the SET's jti in their identity history. A device Gatehouse does not
// know (an IdP's own id) is only recorded per user, as before; a revoked one is left alone.
import t, { type Test } from 'tap';
import { installSsf } from '../../src/identity/ssf/install.js';
import { adminFetch } from '../helpers/stack.js';
import { openWebSocket } from '../helpers/websocket.js';
import { CAEP, push, receiverConfig, remoteKeys, startTransmitter, type Transmitter } from '../identity/ssf/transmitter.js';
import { deviceStack, devicesUpstream, HOST, type DeviceStack, type Session } from './helpers/stack.js';

const email = { format: 'email', email: 'ann@corp.example' };
const event = (current_status: string) => ({ [`${CAEP}device-compliance-change`]: { current_status, previous_status: current_status === 'compliant' ? 'not-compliant' : 'compliant' } });

async function setup(t: Test): Promise<{ d: DeviceStack; tx: Transmitter; ann: Session; id: string }> {
  const upstream = await devicesUpstream(t);
  const tx = await startTransmitter(t);
  const d = await deviceStack(t, {
    apps: {
      laptops: {
        name: 'laptops',
        hosts: [HOST],
        upstream,
        show_denial_reasons: true,
        policies: [{ name: 'compliant-devices', action: 'allow', include: [{ group: 'staff' }], require: [{ posture: { fact: 'compliant', equals: true } }] }],
      },
    },
    gateway: { ssf_receivers: [receiverConfig(tx.jwksUri)] },
    extend: (g, devices) => installSsf(g, remoteKeys, devices),
  });
  const ann = await d.signIn(t);
  const e = await ann.enroll('Ann’s laptop');
  t.equal(e.status, 200);
  return { d, tx, ann, id: (e.body.device as { id: string }).id };
}

const send = async (t: Test, d: DeviceStack, set: string) => {
  const r = await push(d.s.port, set, { host: HOST });
  t.equal(r.status, 202, `the SET is accepted ${r.body}`);
};

t.test('a complex subject’s opaque device and an opaque subject name a Gatehouse device', async (t) => {
  const { d, tx, ann, id } = await setup(t);
  const refused = await ann.get();
  t.equal(refused.status, 403, 'compliance never reported: unknown, denied');
  t.ok((refused.json().reasons as string[]).includes('compliant-devices: require[0] posture compliant: unknown (never reported)'));

  await send(t, d, await tx.set({ format: 'complex', user: email, device: { format: 'opaque', id } }, event('compliant'), { jti: 'ssf-compliant-1' }));
  t.match((await d.device(id)).posture, { compliant: { value: true, stale: false, source: 'ssf' } }, 'the device’s compliant fact is set, source ssf');
  t.equal((await ann.get()).status, 200, 'compliant: allowed on the next request');
  t.match(
    (await d.history(ann.id)).find((h) => h.event_id === 'ssf-compliant-1' && h.bound_device),
    { source: 'ssf', bound_device: { after: id, posture: ['compliant'] } },
    'the bound session’s history has it with source ssf and the jti',
  );

  const ws = await openWebSocket(d.s.port, HOST, '/ws', { authorization: `Bearer ${ann.token}` });
  t.teardown(() => ws.socket.destroy());
  await send(t, d, await tx.set({ format: 'opaque', id }, event('not-compliant'), { jti: 'ssf-not-compliant-2' }));
  t.same(await ws.closed, { code: 4403 }, 'not compliant: the open WebSocket is closed with 4403');
  const denied = await ann.get();
  t.equal(denied.status, 403, 'and the next request is denied');
  t.ok((denied.json().reasons as string[]).includes('compliant-devices: require[0] posture compliant: is false, needs = true'), 'the reason names the fact');
  t.match((await d.device(id)).posture, { compliant: { value: false, source: 'ssf' } });
  t.match(await d.s.gw.store.events.deviceCompliance(''), [{ device: `opaque ${id}`, status: 'not-compliant', eventId: 'ssf-not-compliant-2' }], 'recorded per device');

  // A posture report can set it back: the last word counts, whoever said it.
  t.equal((await d.report(id, { compliant: true })).status, 200);
  t.match((await d.device(id)).posture, { compliant: { value: true, source: 'report' } });
  t.equal((await ann.get()).status, 200);
});

t.test('a device Gatehouse does not know is recorded per user; a revoked device is left alone', async (t) => {
  const { d, tx, ann, id } = await setup(t);
  t.equal((await d.report(id, { compliant: true })).status, 200);
  const before = JSON.stringify((await d.device(id)).posture);

  await send(t, d, await tx.set({ format: 'complex', user: email, device: { format: 'opaque', id: 'entra-device-7' } }, event('not-compliant'), { jti: 'other-device-1' }));
  t.match(await d.s.gw.store.events.deviceCompliance('email ann@corp.example'), [{ device: 'opaque entra-device-7', status: 'not-compliant' }], 'recorded per user and device, as before');
  t.equal(JSON.stringify((await d.device(id)).posture), before, 'Ann’s Gatehouse device is unchanged');
  t.equal((await ann.get()).status, 200, 'and her session still allowed');

  await send(t, d, await tx.set({ format: 'opaque', id: ann.id }, event('not-compliant'), { jti: 'session-subject-1' }));
  t.match((await d.history(ann.id))[0], { source: 'ssf', event_id: 'session-subject-1', device: { id: '(unnamed)', after: 'not-compliant' } }, 'an opaque session id still names the session');
  t.equal(JSON.stringify((await d.device(id)).posture), before, 'and leaves the device alone');

  t.equal((await adminFetch(d.s, `/admin/devices/${id}/revoke`, { method: 'POST' })).status, 200);
  await send(t, d, await tx.set({ format: 'complex', user: email, device: { format: 'opaque', id } }, event('not-compliant'), { jti: 'revoked-1' }));
  t.equal(JSON.stringify((await d.device(id)).posture), before, 'a revoked device takes no compliance');

  const bad = await push(d.s.port, await tx.set({ format: 'opaque', id }, event('unknown-status')), { host: HOST });
  t.equal(bad.status, 400, 'a status other than compliant / not-compliant is refused');
  t.match(bad.json(), { err: 'invalid_request', description: /current_status must be compliant or not-compliant/ });
});
