// devices.approval: admin, end to end over HTTP: a device enrolled (software authenticator) is
// pending and listed by GET /admin/devices?state=pending; an app requiring `device: approved`
// refuses the session with the reason; an admin approves it and the session's next request is let
// in; the pending list no longer has it. The approval is in the session's identity history.
import t from 'tap';
import { adminFetch } from '../helpers/stack.js';
import { deviceStack, devicesUpstream, HOST } from './helpers/stack.js';

t.test('a pending device is refused until an admin approves it', async (t) => {
  const upstream = await devicesUpstream(t);
  const d = await deviceStack(t, {
    apps: {
      laptops: {
        name: 'laptops',
        hosts: [HOST],
        upstream,
        show_denial_reasons: true,
        policies: [{ name: 'approved-devices', action: 'allow', include: [{ group: 'staff' }], require: [{ device: 'approved' }] }],
      },
    },
    gateway: { devices: { approval: 'admin' } },
  });
  const pending = async () => ((await (await adminFetch(d.s, '/admin/devices?state=pending')).json()) as { devices: Array<{ id: string; state: string; name: string; email: string }> }).devices;

  const ann = await d.signIn(t);
  const none = await ann.get();
  t.equal(none.status, 403, 'no device: refused');
  t.equal(none.json().reason, 'device_required', 'an API request is told a device is required');
  t.same(await pending(), [], 'nothing pending yet');

  const enrolled = await ann.enroll('Ann’s laptop');
  t.equal(enrolled.status, 200);
  t.match(enrolled.body, { device: { state: 'pending' }, message: /waits for an administrator’s approval/ });
  const id = (enrolled.body.device as { id: string }).id;

  t.match(await pending(), [{ id, state: 'pending', name: 'Ann’s laptop', email: 'ann@corp.example' }], 'GET /admin/devices?state=pending lists it');
  const refused = await ann.get();
  t.equal(refused.status, 403, 'bound but pending: refused');
  t.equal(refused.json().reason, 'no_policy_matched', 'not device_required: the session has a device');
  t.ok((refused.json().reasons as string[]).includes('approved-devices: require[0] device approved: device Ann’s laptop is pending approval'), 'the reason says the device waits for approval');

  const bad = await adminFetch(d.s, '/admin/devices?state=waiting');
  t.equal(bad.status, 400, 'an unknown state is a 400');
  t.match(await bad.json(), { error: /state must be one of pending, approved, revoked/, param: 'state' });

  const approve = await adminFetch(d.s, `/admin/devices/${id}/approve`, { method: 'POST' });
  t.equal(approve.status, 200);
  t.match(await approve.json(), { id, state: 'approved', approved_by: /^admin/, approved_at: String });
  t.equal((await ann.get()).status, 200, 'approved: the next request is let in');
  t.same(await pending(), [], 'no longer pending');
  t.match(((await (await adminFetch(d.s, '/admin/devices?state=approved')).json()) as { devices: unknown[] }).devices, [{ id }]);

  const history = await d.history(ann.id);
  t.match(history[0], { source: 'admin', event_id: `device ${id}`, bound_device: { before: id, after: id, approved: true } }, 'the approval is in the identity history');

  // Approving twice changes nothing; a revoked device cannot be approved again.
  t.equal((await adminFetch(d.s, `/admin/devices/${id}/approve`, { method: 'POST' })).status, 200);
  t.equal((await adminFetch(d.s, `/admin/devices/${id}/revoke`, { method: 'POST' })).status, 200);
  const again = await adminFetch(d.s, `/admin/devices/${id}/approve`, { method: 'POST' });
  t.equal(again.status, 409, 'a revoked device is not approved again');
  const gone = await ann.get();
  t.equal(gone.status, 403);
  t.equal(gone.json().reason, 'device_required', 'revoked: the binding is dropped on the next request');
  t.equal((await adminFetch(d.s, '/admin/devices/dev_nosuchdevice/approve', { method: 'POST' })).status, 404);
});
