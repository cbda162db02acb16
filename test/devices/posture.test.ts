// Posture reports against a real gateway: a device enrolled over HTTP (software authenticator) and
// bound to a session; PUT /admin/devices/{id}/posture flips the session's next decision, a stale
// fact denies with the age in the reason, and malformed or unauthorised reports are 4xx that change
// nothing (the stored posture is compared after each). The posture token reports and does nothing
// else on the admin listener.
import t, { type Test } from 'tap';
import { adminFetch } from '../helpers/stack.js';
import { deviceStack, devicesUpstream, HOST, type DeviceStack, type Session } from './helpers/stack.js';

const POSTURE_TOKEN = 'posture-token-from-env-0123456789';
const FILE_TOKEN = 'posture-token-from-file-0123456789';
process.env.GATEHOUSE_POSTURE_TOKEN = POSTURE_TOKEN;

async function setup(t: Test): Promise<{ d: DeviceStack; ann: Session; id: string }> {
  const upstream = await devicesUpstream(t);
  const d = await deviceStack(t, {
    apps: {
      laptops: {
        name: 'laptops',
        hosts: [HOST],
        upstream,
        show_denial_reasons: true,
        policies: [{ name: 'encrypted-laptops', action: 'allow', include: [{ group: 'staff' }], require: [{ posture: { fact: 'disk_encrypted', equals: true } }] }],
      },
    },
    gateway: { posture: { tokens_file: './posture-tokens', max_age: '1h', facts: { edr_running: 'boolean' } } },
    files: { 'posture-tokens': `jamf: ${FILE_TOKEN}\n` },
  });
  const ann = await d.signIn(t);
  const enrolled = await ann.enroll('Ann’s laptop');
  t.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  const id = (enrolled.body.device as { id: string }).id;
  return { d, ann, id };
}

const reasons = (r: { json(): Record<string, unknown> }) => (r.json().reasons as string[] | undefined) ?? [];

t.test('a report with disk_encrypted: false denies the session on its next request, and says why', async (t) => {
  const { d, ann, id } = await setup(t);
  const never = await ann.get();
  t.equal(never.status, 403, 'no report yet: the fact is unknown');
  t.ok(reasons(never).includes('encrypted-laptops: require[0] posture disk_encrypted: unknown (never reported)'), 'the reason: never reported');

  const ok = await d.report(id, { disk_encrypted: true, os: 'macos', os_version: '14.2.1' });
  t.equal(ok.status, 200, ok.body);
  t.match(ok.json(), { posture: { disk_encrypted: { value: true, stale: false, source: 'report' }, os_version: { value: '14.2.1' } } });
  t.equal((await ann.get()).status, 200, 'encrypted: allowed');

  const off = await d.report(id, { disk_encrypted: false }, POSTURE_TOKEN);
  t.equal(off.status, 200, 'the posture token (GATEHOUSE_POSTURE_TOKEN) reports');
  const denied = await ann.get();
  t.equal(denied.status, 403, 'the very next request is denied');
  t.equal(denied.json().reason, 'no_policy_matched');
  t.same(reasons(denied), ['encrypted-laptops: include[0] group staff: matched', 'encrypted-laptops: require[0] posture disk_encrypted: is false, needs = true'], 'the reason names the fact and its value');

  t.equal((await d.report(id, { disk_encrypted: true }, FILE_TOKEN)).status, 200, 'a posture.tokens_file token reports too');
  t.equal((await ann.get()).status, 200, 'encrypted again: allowed again');
  const posture = (await d.device(id)).posture;
  t.match(posture, { disk_encrypted: { value: true }, os: { value: 'macos' }, os_version: { value: '14.2.1' } }, 'facts not in a report keep their values');

  const history = await d.history(ann.id);
  const fromPosture = history.filter((h) => h.source === 'posture');
  t.equal(fromPosture.length, 3, 'each report is in the identity history with source posture');
  t.match(fromPosture[0], { source: 'posture', event_id: `device ${id}`, bound_device: { after: id, posture: ['disk_encrypted'] } });
});

t.test('a report older than posture.max_age counts as unknown: denied with when it was reported', async (t) => {
  const { d, ann, id } = await setup(t);
  // The admin API stamps a report with its arrival; the service takes the time, as an MDM's
  // inventory time would be: three days old, against posture.max_age 1h.
  await d.devices.report(id, { disk_encrypted: { value: true, at: Date.now() - 3 * 86_400_000 } }, Date.now() - 3 * 86_400_000);
  const stale = await ann.get();
  t.equal(stale.status, 403, 'stale: denied');
  t.ok(reasons(stale).includes('encrypted-laptops: require[0] posture disk_encrypted: unknown (last report 3d ago)'), 'the reason: unknown (last report 3d ago)');
  t.match((await d.device(id)).posture, { disk_encrypted: { value: true, stale: true } }, 'the admin API shows it stale');

  t.equal((await d.report(id, { disk_encrypted: true })).status, 200);
  t.equal((await ann.get()).status, 200, 'a fresh report makes it known again');
});

t.test('malformed and unauthorised reports are 4xx and change nothing', async (t) => {
  const { d, ann, id } = await setup(t);
  t.equal((await d.report(id, { disk_encrypted: true, os: 'macos' })).status, 200);
  const before = JSON.stringify((await d.device(id)).posture);
  const versionBefore = (await d.history(ann.id)).length;

  const cases: Array<{ what: string; send: () => ReturnType<DeviceStack['report']>; status: number; says: RegExp; param?: string }> = [
    { what: 'a wrong type', send: () => d.report(id, { disk_encrypted: 'yes' }), status: 400, says: /disk_encrypted must be true or false \(got "yes"\)/, param: 'disk_encrypted' },
    { what: 'a version that is not one', send: () => d.report(id, { os_version: 'fourteen' }), status: 400, says: /os_version must be a version like "14\.2\.1"/ },
    { what: 'a custom fact of the wrong type', send: () => d.report(id, { edr_running: 1 }), status: 400, says: /edr_running must be true or false \(got 1\)/ },
    { what: 'one bad fact among good ones', send: () => d.report(id, { disk_encrypted: false, firewall: 'on' }), status: 400, says: /firewall must be true or false/ },
    { what: 'unknown facts', send: () => d.report(id, { disk_encrypted: false, tpm: true, jailbroken: false }), status: 400, says: /unknown facts "tpm", "jailbroken"/, param: 'tpm' },
    { what: 'a ua_* fact (the gateway reads those itself)', send: () => d.report(id, { ua_os: 'macOS' }), status: 400, says: /unknown fact "ua_os"/ },
    { what: 'an empty report', send: () => d.report(id, {}), status: 400, says: /no facts/ },
    { what: 'an array', send: () => d.report(id, [{ disk_encrypted: false }]), status: 400, says: /must be a JSON object of facts/ },
    { what: 'not JSON', send: () => d.report(id, 'disk_encrypted=false'), status: 400, says: /not valid JSON/ },
    { what: 'a 1 MB body', send: () => d.report(id, `{"serial":"${'x'.repeat(1024 * 1024)}"}`), status: 413, says: /larger than 16384 bytes/ },
    { what: 'an unknown device', send: () => d.report('dev_nosuchdevice', { disk_encrypted: false }), status: 404, says: /no device with id "dev_nosuchdevice"/, param: 'id' },
    { what: 'no token', send: () => d.report(id, { disk_encrypted: false }, null), status: 401, says: /missing or invalid posture or admin token/ },
    { what: 'a wrong token', send: () => d.report(id, { disk_encrypted: false }, 'not-a-token-0123456789'), status: 401, says: /missing or invalid/ },
    { what: 'a token of another scheme', send: () => d.report(id, { disk_encrypted: false }, null, { authorization: `Basic ${Buffer.from(`x:${POSTURE_TOKEN}`).toString('base64')}` }), status: 401, says: /missing or invalid/ },
  ];
  for (const c of cases) {
    const r = await c.send();
    t.equal(r.status, c.status, `${c.what}: ${c.status}`);
    const body = r.json<{ error: string; param?: string }>();
    t.match(body.error, c.says, `${c.what}: the answer says what is wrong`);
    if (c.param) t.equal(body.param, c.param, `${c.what}: names ${c.param}`);
    t.equal(JSON.stringify((await d.device(id)).posture), before, `${c.what}: the stored posture is unchanged`);
  }
  t.equal((await d.history(ann.id)).length, versionBefore, 'no identity change was recorded');
  t.equal((await ann.get()).status, 200, 'the session is decided as before');

  const revoked = await adminFetch(d.s, `/admin/devices/${id}/revoke`, { method: 'POST' });
  t.equal(revoked.status, 200);
  const late = await d.report(id, { disk_encrypted: true });
  t.equal(late.status, 409, 'a revoked device takes no reports');
  t.match(late.json<{ error: string }>().error, /is revoked/);
});

t.test('the posture token reports posture and nothing else', async (t) => {
  const { d, id } = await setup(t);
  for (const token of [POSTURE_TOKEN, FILE_TOKEN]) {
    const as = (path: string, method = 'GET') => fetch(`${d.s.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    for (const [method, path] of [
      ['GET', '/admin/devices'],
      ['GET', `/admin/devices/${id}`],
      ['POST', `/admin/devices/${id}/approve`],
      ['POST', `/admin/devices/${id}/revoke`],
      ['GET', '/admin/sessions'],
    ] as const) {
      const r = await as(path, method);
      t.equal(r.status, 401, `${method} ${path} with a posture token: 401`);
    }
  }
  t.equal((await d.device(id)).state, 'approved', 'the device was not revoked by the posture token');

  t.equal((await d.report(id, { disk_encrypted: true }, POSTURE_TOKEN)).status, 200, 'and it still reports');
});
