// Posture and device changes re-decide live sessions: an open WebSocket through the gateway of a
// session bound to the device is closed with 4403 once a report (or a revocation) makes it no
// longer allowed, while a WebSocket of a session bound to another device stays open; the change is
// in the session's identity history with source posture (admin for the revocation).
import t, { type Test } from 'tap';
import { adminFetch } from '../helpers/stack.js';
import { openWebSocket } from '../helpers/websocket.js';
import { deviceStack, devicesUpstream, HOST, type DeviceStack, type Session } from './helpers/stack.js';

async function setup(t: Test): Promise<{ d: DeviceStack; ann: Session; annDevice: string; bob: Session; bobDevice: string }> {
  const upstream = await devicesUpstream(t);
  const d = await deviceStack(t, {
    apps: {
      laptops: {
        name: 'laptops',
        hosts: [HOST],
        upstream,
        policies: [{ name: 'encrypted-laptops', action: 'allow', include: [{ group: 'staff' }], require: [{ device: 'enrolled' }, { posture: { fact: 'disk_encrypted', equals: true } }] }],
      },
    },
  });
  const ann = await d.signIn(t);
  const bob = await d.signIn(t, { sub: 'bob-id', email: 'bob@corp.example' });
  const ids: string[] = [];
  for (const [who, name] of [[ann, 'Ann’s laptop'], [bob, 'Bob’s laptop']] as const) {
    const e = await who.enroll(name);
    t.equal(e.status, 200);
    const id = (e.body.device as { id: string }).id;
    t.equal((await d.report(id, { disk_encrypted: true })).status, 200);
    t.equal((await who.get()).status, 200, `${name}: allowed`);
    ids.push(id);
  }
  return { d, ann, annDevice: ids[0] as string, bob, bobDevice: ids[1] as string };
}

const open = (d: DeviceStack, s: Session) => openWebSocket(d.s.port, HOST, '/ws', { authorization: `Bearer ${s.token}` });

t.test('a posture report closes the WebSockets of the sessions it no longer allows (4403)', async (t) => {
  const { d, ann, annDevice, bob } = await setup(t);
  const annWs = await open(d, ann);
  const bobWs = await open(d, bob);
  t.teardown(() => {
    annWs.socket.destroy();
    bobWs.socket.destroy();
  });
  let bobClosed = false;
  void bobWs.closed.then(() => (bobClosed = true));

  t.equal((await d.report(annDevice, { disk_encrypted: false })).status, 200);
  t.same(await annWs.closed, { code: 4403 }, 'Ann’s WebSocket is closed with 4403');
  t.equal((await ann.get()).status, 403, 'and her next request is denied');

  // Bob's socket is still open: it echoes what it is sent (a masked ping-sized text frame).
  const echoed = new Promise<Buffer>((resolve) => bobWs.socket.once('data', resolve));
  bobWs.socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]));
  t.ok((await echoed).length > 0, 'Bob’s WebSocket (another device) still carries data');
  t.equal(bobClosed, false, 'and was not closed');

  const history = await d.history(ann.id);
  t.match(history[0], { source: 'posture', event_id: `device ${annDevice}`, bound_device: { after: annDevice, posture: ['disk_encrypted'] } }, 'the change is in the identity history with source posture');
  t.notOk((await d.history(bob.id)).some((h) => h.event_id === `device ${annDevice}`), 'Bob’s history does not have Ann’s report');
});

t.test('revoking the device closes its sessions’ WebSockets (4403)', async (t) => {
  const { d, ann, annDevice } = await setup(t);
  const ws = await open(d, ann);
  t.teardown(() => ws.socket.destroy());
  t.equal((await adminFetch(d.s, `/admin/devices/${annDevice}/revoke`, { method: 'POST' })).status, 200);
  t.same(await ws.closed, { code: 4403 }, 'closed with 4403');
  t.match((await d.history(ann.id))[0], { source: 'admin', bound_device: { before: annDevice, after: null } }, 'the dropped binding is in the history');
  await t.rejects(open(d, ann), /no upgrade: HTTP\/1\.1 403/, 'a new WebSocket is refused');
});
