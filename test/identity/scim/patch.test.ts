// PATCH operations (RFC 7644 §3.5.2) on a user document, then re-checked as a whole resource: the
// shapes Okta and Entra send (patch.ts's checklist), and the refusals with their scimType.
import t from 'tap';
import { applyOperation, expandPathless, patchOperations } from '../../../src/identity/scim/patch.js';
import { userFields, type Doc, USER_URN, PATCH_URN, ENTERPRISE_URN } from '../../../src/identity/scim/resources.js';
import { ScimError } from '../../../src/identity/scim/errors.js';

const ann = (): Doc => ({
  schemas: [USER_URN],
  userName: 'ann@corp.example',
  active: true,
  name: { givenName: 'Ann', familyName: 'Lee' },
  emails: [{ value: 'ann@corp.example', type: 'work', primary: true }],
});

function patched(ops: unknown[], doc = ann()): Doc {
  for (const op of patchOperations({ schemas: [PATCH_URN], Operations: ops }).flatMap((o) => expandPathless(o))) applyOperation(doc, op, 'User');
  return doc;
}

function refusal(fn: () => unknown): { status: number; scimType: string | undefined; detail: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return { status: err.status, scimType: err.scimType, detail: err.detail };
    throw err;
  }
  throw new Error('not refused');
}

t.test('Okta: path-less replace of active; replace of several attributes', async (t) => {
  t.equal(userFields(patched([{ op: 'replace', value: { active: false } }])).active, false);
  const doc = patched([{ op: 'replace', value: { name: { familyName: 'Kim' }, displayName: 'Ann Kim' } }]);
  t.same(doc.name, { givenName: 'Ann', familyName: 'Kim' }, 'a complex attribute: the given sub-attributes replace theirs');
  t.equal(doc.displayName, 'Ann Kim');
});

t.test('Entra: capitalised ops, string booleans, paths in value keys, valuePath filters', async (t) => {
  t.equal(userFields(patched([{ op: 'Replace', path: 'active', value: 'False' }])).active, false, '"False" is false');
  t.equal(userFields(patched([{ op: 'Replace', path: 'active', value: 'True' }])).active, true);
  const doc = patched([
    { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ann.lee@corp.example' },
    { op: 'Replace', path: 'name.familyName', value: 'Lee-Kim' },
    { op: 'Add', value: { 'name.givenName': 'Annie', [`${ENTERPRISE_URN}:department`]: 'Docs' } },
  ]);
  const f = userFields(doc);
  t.same(f.emails, [{ value: 'ann.lee@corp.example', type: 'work', primary: true }]);
  t.equal(f.primaryEmail, 'ann.lee@corp.example');
  t.same(doc.name, { givenName: 'Annie', familyName: 'Lee-Kim' });
  t.same(doc[ENTERPRISE_URN], { department: 'Docs' });
  // A user without a work email: Entra's replace adds one.
  const added = patched([{ op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' }]);
  t.same(added.phoneNumbers, [{ type: 'mobile', value: '+1 555 0100' }]);
  // An extension object as a whole (key = schema URN, not a path).
  t.same(patched([{ op: 'add', value: { [ENTERPRISE_URN]: { employeeNumber: '42' } } }])[ENTERPRISE_URN], { employeeNumber: '42' });
});

t.test('multi-valued add appends without duplicates; remove by filter or by value list', async (t) => {
  const doc = patched([{ op: 'add', path: 'emails', value: [{ value: 'ANN@corp.example', type: 'other' }, { value: 'a2@corp.example', type: 'home' }] }]);
  t.same((doc.emails as Doc[]).map((e) => e.value), ['ann@corp.example', 'a2@corp.example'], 'same value (any case) is not added twice');
  t.same((patched([{ op: 'remove', path: 'emails[type eq "home"]' }], doc).emails as Doc[]).length, 1);
  t.same(patched([{ op: 'remove', path: 'emails', value: [{ value: 'ann@corp.example' }] }]).emails, []);
  t.equal(patched([{ op: 'remove', path: 'name.givenName' }]).name && (patched([{ op: 'remove', path: 'name.givenName' }]).name as Doc).givenName, undefined);
  t.notOk('title' in patched([{ op: 'add', path: 'title', value: 'x' }, { op: 'remove', path: 'title' }]));
});

t.test('refusals name the operation and carry the scimType', async (t) => {
  const op = (o: unknown) => () => patched([o]);
  t.match(refusal(() => patchOperations({ Operations: [] })), { status: 400, scimType: 'invalidValue', detail: /schemas/ });
  t.match(refusal(() => patchOperations({ schemas: [PATCH_URN], Operations: [] })), { scimType: 'invalidSyntax', detail: /Operations/ });
  t.match(refusal(() => patchOperations('x')), { scimType: 'invalidSyntax' });
  t.match(refusal(op({ op: 'move', path: 'a', value: 1 })), { scimType: 'invalidSyntax', detail: /Operations\[0\]\.op/ });
  t.match(refusal(op({ op: 'remove' })), { scimType: 'noTarget', detail: /Operations\[0\]: remove needs a path/ });
  t.match(refusal(op({ op: 'replace', path: 'active' })), { scimType: 'invalidValue', detail: /Operations\[0\]\.value/ });
  t.match(refusal(op({ op: 'replace', path: 'emails[type eq', value: 1 })), { scimType: 'invalidPath', detail: /Operations\[0\]\.path/ });
  t.match(refusal(op({ op: 'replace', path: 5, value: 1 })), { scimType: 'invalidPath' });
  t.match(refusal(op({ op: 'replace', value: 'x' })), { scimType: 'invalidValue', detail: /object of attributes/ });
  t.match(refusal(op({ op: 'replace', path: 'id', value: 'x' })), { scimType: 'mutability', detail: /read-only/ });
  t.match(refusal(op({ op: 'replace', path: 'emails[value sw "z"]', value: { type: 'x' } })), { scimType: 'noTarget' });
  t.match(refusal(op({ op: 'replace', path: 'emails.value', value: 'x' })), { scimType: 'invalidPath', detail: /with a filter/ });
  t.match(refusal(() => userFields(patched([{ op: 'replace', path: 'active', value: 'maybe' }]))), { scimType: 'invalidValue', detail: /^active:/ });
  t.match(refusal(() => userFields(patched([{ op: 'remove', path: 'userName' }]))), { scimType: 'invalidValue', detail: /^userName: is required/ });
});

t.test('a resource body: checked field by field, readOnly and password dropped', async (t) => {
  const f = userFields({ schemas: [USER_URN], UserName: 'Bo@Corp.Example', password: 'secret', id: 'x', groups: [{ value: 'g' }], title: 'Eng', emails: [{ value: 'bo@corp.example', primary: 'True' }] });
  t.equal(f.userName, 'Bo@Corp.Example', 'attribute names are case-insensitive');
  t.same(f.attributes, { title: 'Eng' }, 'id, groups and password are not kept');
  t.equal(f.primaryEmail, 'bo@corp.example');
  t.match(refusal(() => userFields({ userName: 'x' })), { scimType: 'invalidValue', detail: /^schemas:/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN] })), { detail: /^userName: is required/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN], userName: 'x', emails: 'x' })), { detail: /^emails: must be a list/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN], userName: 'x', emails: [{}] })), { detail: /^emails\[0\]\.value/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN], userName: 'x', emails: [{ value: 'a', primary: true }, { value: 'b', primary: true }] })), { detail: /at most one may be primary/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN], userName: 'x', name: 'Ann' })), { detail: /^name:/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN], userName: 'x'.repeat(2000) })), { detail: /^userName: must be a string/ });
  t.match(refusal(() => userFields({ schemas: [USER_URN], userName: 'x', externalId: 5 })), { detail: /^externalId:/ });
});
