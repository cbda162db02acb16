// Okta's SCIM 2.0 provisioning sequence, request by request as Okta's "SCIM 2.0 provisioning"
// reference describes it (test connection, find-then-create, profile push with PUT, deactivation
// with a path-less PATCH, Push Groups with create / rename / add and remove members / delete),
// against a started gateway over HTTP — and what each does to a signed-in session.
import t from 'tap';
import { filtered, GROUP_URN, PATCH_URN, startScimStack, USER_URN, type Json } from './helpers.js';

t.test('Okta: users, then Push Groups, each change deciding the next request', async (t) => {
  const s = await startScimStack(t);
  const ann = await s.signIn('ann@corp.example', ['staff']);
  t.equal((await ann.get()).status, 403, 'signed in without wiki-editors');

  // Test connection: Okta lists with count=2.
  const probe = await s.scim('GET', '/Users?startIndex=1&count=2');
  t.match(probe, { status: 200, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] } });
  t.match(probe.headers.get('content-type'), /^application\/scim\+json/);

  // Assign the user to the app: look up by userName, then create.
  const lookup = await s.scim('GET', filtered('Users', 'userName eq "ann@corp.example"', '&startIndex=1&count=100'));
  t.equal(lookup.body.totalResults, 0);
  const created = await s.scim('POST', '/Users', {
    schemas: [USER_URN],
    userName: 'ann@corp.example',
    name: { givenName: 'Ann', familyName: 'Lee' },
    emails: [{ primary: true, value: 'ann@corp.example', type: 'work' }],
    displayName: 'Ann Lee',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    groups: [],
    password: '1mz050nq',
    active: true,
  });
  t.equal(created.status, 201);
  const id = created.body.id as string;
  t.match(created.body, { schemas: [USER_URN], id: String, userName: 'ann@corp.example', active: true, externalId: '00ujl29u0le5T6Aj10h7', groups: [], meta: { resourceType: 'User', version: 'W/"1"' } });
  t.notOk('password' in created.body, 'a password is never stored or returned');
  t.equal(created.headers.get('location'), `${s.adminUrl.replace('127.0.0.1', '127.0.0.1')}/scim/v2/Users/${id}`);
  t.equal(created.headers.get('etag'), 'W/"1"');

  t.match(await s.scim('GET', `/Users/${id}`), { status: 200, body: { id, name: { givenName: 'Ann', familyName: 'Lee' } } });
  t.match(await s.scim('GET', filtered('Users', 'userName eq "ann@corp.example"', '&startIndex=1&count=100')), { body: { totalResults: 1, Resources: [{ id }] } });

  // Profile push (an AIW app): the whole user with PUT.
  const put = await s.scim('PUT', `/Users/${id}`, { ...created.body, name: { givenName: 'Ann', familyName: 'Kim' }, displayName: 'Ann Kim' });
  t.match(put, { status: 200, body: { id, displayName: 'Ann Kim', name: { familyName: 'Kim' }, meta: { version: 'W/"2"' } } });

  // Push Groups: find by name, create with the member, and the session gains the group.
  t.match(await s.scim('GET', filtered('Groups', 'displayName eq "wiki-editors"', '&startIndex=1&count=100')), { body: { totalResults: 0 } });
  const group = await s.scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'wiki-editors', members: [{ value: id, display: 'ann@corp.example' }] });
  t.match(group, { status: 201, body: { displayName: 'wiki-editors', members: [{ value: id, display: 'ann@corp.example' }] } });
  const gid = group.body.id as string;
  t.equal((await ann.get()).status, 200, 'the group pushed by SCIM decides the next request');
  t.match(await s.scim('GET', `/Users/${id}`), { body: { groups: [{ value: gid, display: 'wiki-editors' }] } });

  // Rename: Okta sends the id along in a path-less replace.
  t.match(await s.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { id: gid, displayName: 'wiki-writers' } }] }), {
    status: 200,
    body: { displayName: 'wiki-writers' },
  });
  t.equal((await ann.get()).status, 403, 'renamed: the session no longer has wiki-editors');
  await s.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { id: gid, displayName: 'wiki-editors' } }] });
  t.equal((await ann.get()).status, 200);

  // Remove, then add back, members the way Okta does.
  const removed = await s.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
  t.match(removed, { status: 200, body: { members: [] } });
  t.equal((await ann.get()).status, 403, 'a removed member loses the group on the next request');
  await s.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: 'ann@corp.example' }] }] });
  t.equal((await ann.get()).status, 200);
  await s.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'members', value: [] }] });
  t.equal((await ann.get()).status, 403, 'replace with no members');
  await s.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { members: [{ value: id }] } }] });
  t.equal((await ann.get()).status, 200);

  // Unassign: Okta deactivates with a path-less PATCH; the session is refused at once.
  const off = await s.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: false } }] });
  t.match(off, { status: 200, body: { active: false } });
  const refused = await ann.get();
  t.equal(refused.status, 401, 'deactivated: the signed-in session is refused on its next request');
  const session = await s.gw.store.getSession(ann.id);
  t.match(session, { revokedBy: 'scim' }, 'recorded as revoked by SCIM');
  t.match(session?.revokeReason, /deactivated by SCIM.*scim:env/);

  // Reactivate (Okta sends active: true the same way), then delete the group.
  t.match(await s.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: true } }] }), { body: { active: true } });
  const gone = await s.scim('DELETE', `/Groups/${gid}`);
  t.equal(gone.status, 204);
  t.match(await s.scim('GET', `/Groups/${gid}`), { status: 404 });
  t.same((await s.scim('GET', `/Users/${id}`)).body.groups as Json[], []);
});
