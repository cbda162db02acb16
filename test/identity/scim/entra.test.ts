// Microsoft Entra ID's provisioning requests, in the shapes of Microsoft's "Develop a sample SCIM
// endpoint" / "use SCIM to provision users and groups" request examples and of "Known issues and
// resolutions with SCIM 2.0 compliance" (capitalised ops, "False" as a string, member removal both
// with a value list and with a members[value eq "…"] path, valuePath paths on emails), against a
// started gateway over HTTP.
import t from 'tap';
import { ENTERPRISE_URN, filtered, GROUP_URN, PATCH_URN, startScimStack, USER_URN, type Json } from './helpers.js';

const patch = (...Operations: Json[]) => ({ schemas: [PATCH_URN], Operations });

t.test('Entra: users', async (t) => {
  const s = await startScimStack(t);
  const userName = 'Test_User_dfeef4c5@contoso.example';
  t.match(await s.scim('GET', filtered('Users', `userName eq "${userName}"`)), { status: 200, body: { totalResults: 0, Resources: [] } });
  const created = await s.scim('POST', '/Users', {
    schemas: [USER_URN, ENTERPRISE_URN],
    externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@contoso.example' }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
  });
  t.equal(created.status, 201);
  const id = created.body.id as string;
  t.match(created.body, { schemas: [USER_URN], userName, active: true, name: { familyName: 'familyName' }, meta: { resourceType: 'User', created: String, lastModified: String } });

  t.match(await s.scim('GET', `/Users/${id}`), { status: 200, body: { id, externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef' } });
  t.match(await s.scim('GET', filtered('Users', `userName eq "${userName}"`)), { body: { totalResults: 1, itemsPerPage: 1, Resources: [{ id }] } });
  t.match(await s.scim('GET', filtered('Users', 'userName eq "non-existent user"')), { body: { totalResults: 0 } });
  // The matching attribute may be the work email or externalId instead.
  t.match(await s.scim('GET', filtered('Users', 'emails[type eq "work"].value eq "test_user_fd0ea19b@contoso.example"')), { body: { totalResults: 1 } });
  t.match(await s.scim('GET', filtered('Users', 'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')), { body: { totalResults: 1 } });

  // Multi-valued and single-valued updates, capitalised as Entra sends them.
  const updated = await s.scim(
    'PATCH',
    `/Users/${id}`,
    patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@contoso.example' }, { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' }),
  );
  t.match(updated, { status: 200, body: { emails: [{ type: 'work', value: 'updatedEmail@contoso.example', primary: true }], name: { familyName: 'updatedFamilyName', givenName: 'givenName' } } });
  t.match(await s.scim('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'userName', value: 'ann@corp.example' })), { body: { userName: 'ann@corp.example' } });
  // With aadOptscim062020: path-less add, attribute paths as keys (the enterprise extension too).
  t.match(await s.scim('PATCH', `/Users/${id}`, patch({ op: 'add', value: { 'name.givenName': 'Ann', [`${ENTERPRISE_URN}:department`]: 'Docs' } })), {
    body: { name: { givenName: 'Ann' }, [ENTERPRISE_URN]: { department: 'Docs' }, schemas: [USER_URN, ENTERPRISE_URN] },
  });

  // Disable: the old job sends "False" as a string; the session is refused on its next request.
  const ann = await s.signIn('ann@corp.example', ['wiki-editors']);
  t.equal((await ann.get()).status, 200);
  t.match(await s.scim('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' })), { status: 200, body: { active: false } });
  t.equal((await ann.get()).status, 401, 'disabled in Entra: refused at once');
  // Re-enabled with a real boolean (aadOptscim062020), then deleted (Entra's hard delete).
  t.match(await s.scim('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: true } })), { body: { active: true } });
  const bob = await s.signIn('ann@corp.example', ['wiki-editors']);
  t.equal((await bob.get()).status, 200);
  t.equal((await s.scim('DELETE', `/Users/${id}`)).status, 204);
  t.equal((await bob.get()).status, 401, 'deleted: refused at once');
  t.match(await s.scim('GET', `/Users/${id}`), { status: 404, body: { status: '404' } });
});

t.test('Entra: groups and memberships', async (t) => {
  const s = await startScimStack(t);
  const user = await s.scim('POST', '/Users', { schemas: [USER_URN], userName: 'ann@corp.example', active: true });
  const uid = user.body.id as string;
  const ann = await s.signIn('ann@corp.example');
  t.equal((await ann.get()).status, 403);

  const created = await s.scim('POST', '/Groups', { schemas: [GROUP_URN], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'displayName', meta: { resourceType: 'Group' }, members: [] });
  t.match(created, { status: 201, body: { displayName: 'displayName', members: [], meta: { resourceType: 'Group' } } });
  const gid = created.body.id as string;
  const noMembers = await s.scim('GET', `/Groups/${gid}?excludedAttributes=members`);
  t.match(noMembers, { status: 200, body: { id: gid, displayName: 'displayName' } });
  t.notOk('members' in noMembers.body, 'excludedAttributes=members leaves them out');
  t.match(await s.scim('GET', filtered('Groups', 'displayName eq "displayName"', '&excludedAttributes=members')), { body: { totalResults: 1, Resources: [{ id: gid }] } });

  t.match(await s.scim('PATCH', `/Groups/${gid}`, patch({ op: 'Replace', path: 'displayName', value: 'wiki-editors' })), { status: 200, body: { displayName: 'wiki-editors' } });
  t.equal((await ann.get()).status, 403, 'renaming an empty group changes nobody');

  t.match(await s.scim('PATCH', `/Groups/${gid}`, patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: uid }] })), { status: 200 });
  t.equal((await ann.get()).status, 200, 'added to the group in Entra: allowed on the next request');
  t.match(await s.scim('PATCH', `/Groups/${gid}`, patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: uid }] })), { status: 200, body: { members: [] } });
  t.equal((await ann.get()).status, 403, 'removed (value list): refused on the next request');

  // aadOptscim062020 shapes: lower-case ops, removal by a members[value eq "…"] path.
  await s.scim('PATCH', `/Groups/${gid}`, patch({ op: 'add', path: 'members', value: [{ value: uid }] }));
  t.equal((await ann.get()).status, 200);
  await s.scim('PATCH', `/Groups/${gid}`, patch({ op: 'remove', path: `members[value eq "${uid}"]` }));
  t.equal((await ann.get()).status, 403, 'removed (filter path): refused on the next request');
  t.match(await s.scim('PATCH', `/Groups/${gid}`, patch({ op: 'Add', path: 'members', value: [{ value: 'no-such-user' }] })), {
    status: 400,
    body: { scimType: 'invalidValue', detail: /members\.value: "no-such-user" is not the id of a SCIM user/ },
  });

  t.equal((await s.scim('DELETE', `/Groups/${gid}`)).status, 204);
  t.match(await s.scim('GET', `/Groups/${gid}`), { status: 404 });
  t.same((await s.scim('GET', `/Users/${uid}`)).body.groups, []);
});

t.test('scim.groups: replace makes SCIM the only source of groups', async (t) => {
  const s = await startScimStack(t, { scim: { groups: 'replace' } });
  const ann = await s.signIn('ann@corp.example', ['wiki-editors']);
  t.equal((await ann.get()).status, 200, 'the sign-in gave wiki-editors');
  const user = await s.scim('POST', '/Users', { schemas: [USER_URN], userName: 'ann@corp.example' });
  t.equal((await ann.get()).status, 403, 'a SCIM user in no SCIM group has no groups');
  await s.scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'wiki-editors', members: [{ value: user.body.id }] });
  t.equal((await ann.get()).status, 200);
});
