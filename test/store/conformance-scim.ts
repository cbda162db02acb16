// Conformance cases: SCIM users, groups and memberships (store.scim), the same on every backend.
import type { Test } from 'tap';
import { parseFilter } from '../../src/identity/scim/filter.js';
import type { ScimGroupRecord, ScimStore, ScimUserRecord } from '../../src/store/scim-types.js';
import { fresh, type OpenStore } from './conformance.js';
import { T0 } from './records.js';

export function scimUser(id: string, over: Partial<ScimUserRecord> = {}): ScimUserRecord {
  const userName = over.userName ?? `${id}@corp.example`;
  return {
    id,
    userName,
    externalId: `ext-${id}`,
    displayName: `User ${id}`,
    active: true,
    emails: [{ value: userName, type: 'work', primary: true }],
    primaryEmail: userName.toLowerCase(),
    attributes: { name: { givenName: id } },
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function scimGroup(id: string, over: Partial<ScimGroupRecord> = {}): ScimGroupRecord {
  return { id, displayName: `group-${id}`, externalId: null, attributes: {}, version: 1, createdAt: T0, updatedAt: T0, ...over };
}

const ids = (list: { items: Array<{ id: string }> }) => list.items.map((u) => u.id);

async function users(t: Test, open: OpenStore): Promise<ScimStore> {
  const store = (await fresh(t, open)).scim;
  await store.createScimUser(scimUser('u1', { userName: 'Ann@Corp.Example', createdAt: T0 + 1 }));
  await store.createScimUser(scimUser('u2', { userName: 'bob@corp.example', displayName: '100% Bob', active: false, createdAt: T0 + 2 }));
  await store.createScimUser(
    scimUser('u3', {
      userName: 'ÅSA',
      emails: [
        { value: 'asa@home.example', type: 'home' },
        { value: 'Asa@Corp.Example', type: 'work', primary: true },
      ],
      primaryEmail: 'asa@corp.example',
      createdAt: T0 + 3,
    }),
  );
  return store;
}

export function scimCases(t: Test, open: OpenStore): void {
  t.test('scim: users are created, read, replaced under a version guard and deleted', async (t) => {
    const store = (await fresh(t, open)).scim;
    const u = scimUser('u1', { attributes: { name: { givenName: 'Ann' }, title: 'Eng \u0000' } });
    t.equal(await store.createScimUser(u), 'ok');
    t.same(await store.getScimUser('u1'), { ...u, attributes: { name: { givenName: 'Ann' }, title: (await store.getScimUser('u1'))?.attributes.title } });
    t.same(await store.createScimUser(scimUser('u2', { userName: 'U1@CORP.EXAMPLE' })), { conflict: 'userName' }, 'userName is unique, case-insensitively');
    t.equal(await store.getScimUser('u2'), null, 'nothing written on a conflict');
    const next = { ...u, active: false, displayName: 'Ann', version: 2, updatedAt: T0 + 5 };
    t.equal(await store.updateScimUser(next, 1), 'ok');
    t.equal(await store.updateScimUser({ ...next, version: 3 }, 1), 'stale', 'a write from an older read is refused');
    t.equal(await store.updateScimUser({ ...next, id: 'nope' }, 2), 'not_found');
    await store.createScimUser(scimUser('u3'));
    t.same(await store.updateScimUser({ ...next, version: 3, userName: 'u3@corp.example' }, 2), { conflict: 'userName' });
    t.match(await store.getScimUser('u1'), { active: false, displayName: 'Ann', version: 2, updatedAt: T0 + 5 });
    t.match(await store.deleteScimUser('u1'), { id: 'u1', userName: 'u1@corp.example' });
    t.equal(await store.deleteScimUser('u1'), null);
    t.equal(await store.getScimUser('u1'), null);
  });

  t.test('scim: user filters the way Okta and Entra query, and paging', async (t) => {
    const store = await users(t, open);
    const list = (filter: string, startIndex = 1, count = 100) => store.listScimUsers({ filter: parseFilter(filter), startIndex, count });
    t.same(ids(await list('userName eq "ann@corp.example"')), ['u1'], 'userName is case-insensitive');
    t.same(ids(await list('userName eq "åsa"')), ['u3'], 'Unicode case too');
    t.same(ids(await list('externalId eq "ext-u2"')), ['u2']);
    t.same(ids(await list('externalId eq "EXT-U2"')), [], 'externalId is case-exact');
    t.same(ids(await list('emails.value eq "ASA@home.example"')), ['u3']);
    t.same(ids(await list('emails eq "asa@home.example"')), ['u3'], 'emails alone is emails.value');
    t.same(ids(await list('emails[type eq "work" and value eq "asa@home.example"]')), [], 'one email must be both');
    t.same(ids(await list('emails[type eq "work"].value eq "asa@corp.example"')), ['u3']);
    t.same(ids(await list('emails[type eq "home"]')), ['u3']);
    t.same(ids(await list('displayName co "100%"')), ['u2'], '% is a character, not a wildcard');
    t.same(ids(await list('displayName co "0_"')), [], '_ is a character too');
    t.same(ids(await list('userName sw "a" or userName ew "example" and active eq false')), ['u1', 'u2']);
    t.same(ids(await list('not (active eq true)')), ['u2']);
    t.same(ids(await list('active ne true')), ['u2']);
    t.same(ids(await list('displayName pr and externalId ne "ext-u1"')), ['u2', 'u3']);
    t.same(ids(await list(`meta.created gt "${new Date(T0 + 1).toISOString()}"`)), ['u2', 'u3']);
    t.same(ids(await list('id eq "u2"')), ['u2']);
    const all = await store.listScimUsers({ startIndex: 1, count: 100 });
    t.same([all.total, ids(all)], [3, ['u1', 'u2', 'u3']], 'oldest first');
    const page = await store.listScimUsers({ startIndex: 2, count: 1 });
    t.same([page.total, ids(page)], [3, ['u2']], 'startIndex is 1-based');
    t.same(await store.listScimUsers({ startIndex: 1, count: 0 }), { total: 3, items: [] }, 'count 0: the total only');
    for (const bad of ['title eq "x"', 'active eq "yes"', 'userName eq 5', 'externalId co "x"', 'meta.created gt "soon"', 'urn:x:y:title eq "a"', 'emails[type eq "x"].display eq "a"', 'userName gt null']) {
      await t.rejects(list(bad), { name: 'StoreQueryError', param: 'filter' }, bad);
    }
  });

  t.test('scim: groups and memberships; an unknown member writes nothing', async (t) => {
    const store = await users(t, open);
    t.same(await store.createScimGroup(scimGroup('g1', { displayName: 'Wiki-Editors' }), ['u1', 'u2']), { changedMembers: ['u1', 'u2'] });
    t.same(await store.createScimGroup(scimGroup('g2'), ['u1', 'nope']), { unknownMember: 'nope' });
    t.equal(await store.getScimGroup('g2'), null, 'the group was not created either');
    t.same(await store.scimGroupMembers('g1', 10), [
      { value: 'u1', display: 'Ann@Corp.Example' },
      { value: 'u2', display: 'bob@corp.example' },
    ]);
    t.same(await store.scimGroupMembers('g1', 1), [{ value: 'u1', display: 'Ann@Corp.Example' }], 'bounded');
    const g1 = (await store.getScimGroup('g1')) as ScimGroupRecord;
    t.same(await store.updateScimGroup({ ...g1, version: 2, displayName: 'wiki-editors' }, 1, { remove: ['u2', 'u3'], add: ['u3', 'u1'] }), { changedMembers: ['u2', 'u3'] }, 'removing a non-member or adding a member changes nobody');
    t.same(await store.updateScimGroup({ ...g1, version: 3 }, 2, { removeAll: true, add: ['u1', 'u2'] }), { changedMembers: ['u3', 'u2'] }, 'replace: only who left or joined');
    t.equal(await store.updateScimGroup({ ...g1, version: 4 }, 2, {}), 'stale');
    t.same(await store.updateScimGroup({ ...g1, version: 4 }, 3, { add: ['ghost'] }), { unknownMember: 'ghost' });
    t.match(await store.getScimGroup('g1'), { version: 3, displayName: 'Wiki-Editors' }, 'the refused update left the group as it was');
    t.equal(await store.updateScimGroup({ ...g1, id: 'nope' }, 1, {}), 'not_found');
    t.same(await store.scimUserGroups('u1'), [{ id: 'g1', displayName: 'Wiki-Editors' }]);
    await store.createScimGroup(scimGroup('g3', { displayName: 'Admins' }), ['u1']);
    t.same((await store.scimUserGroups('u1')).map((g) => g.displayName), ['Admins', 'Wiki-Editors'], 'by name');
    t.same(ids(await store.listScimGroups({ filter: parseFilter('displayName eq "admins"'), startIndex: 1, count: 10 })), ['g3']);
    t.same(ids(await store.listScimGroups({ filter: parseFilter('members.value eq "u2"'), startIndex: 1, count: 10 })), ['g1']);
    t.same(ids(await store.listScimGroups({ filter: parseFilter('members[value eq "u1"]'), startIndex: 1, count: 10 })), ['g1', 'g3']);
    t.same((await store.scimGroupMemberIds('g1')).sort(), ['u1', 'u2']);
    t.same((await store.deleteScimGroup('g1'))?.sort(), ['u1', 'u2']);
    t.equal(await store.deleteScimGroup('g1'), null);
    t.same(await store.scimUserGroups('u2'), []);
    // Deleting a user takes its memberships with it.
    await store.deleteScimUser('u1');
    t.same(await store.scimGroupMembers('g3', 10), []);
    t.same((await store.scimUsersById(['u2', 'u1', 'u3'])).map((u) => u.id).sort(), ['u2', 'u3']);
  });

  t.test('scim: a session email finds its SCIM user by userName or primary email', async (t) => {
    const store = await users(t, open);
    await store.createScimGroup(scimGroup('g1', { displayName: 'staff' }), ['u3']);
    t.same(await store.scimStanding('ANN@corp.example'), { userId: 'u1', active: true, groups: [] });
    t.same(await store.scimStanding('asa@corp.example'), { userId: 'u3', active: true, groups: ['staff'] }, 'by primary email');
    t.same(await store.scimStanding('asa@home.example'), null, 'not by a secondary email');
    t.match(await store.scimStanding('bob@corp.example'), { active: false });
  });
}
