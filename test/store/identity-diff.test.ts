import t from 'tap';
import { decodeCursor, encodeCursor, pageLimit } from '../../src/store/cursor.js';
import { diffIdentity, stableJson } from '../../src/store/identity-diff.js';

t.test('diffIdentity', async (t) => {
  const base = { groups: ['staff', 'eng'], claims: { sub: 'u1', department: 'eng', jti: 'a', iat: 1, roles: { a: 1, b: 2 } } };
  t.equal(diffIdentity(base, { groups: ['eng', 'staff'], claims: { ...base.claims, jti: 'b', iat: 2, exp: 3, sid: 'x', roles: { b: 2, a: 1 } } }), null);
  t.same(diffIdentity(base, { groups: ['staff', 'admins'], claims: { ...base.claims, department: 'sec', title: 'CISO' } }), {
    groups: { added: ['admins'], removed: ['eng'] },
    claims: { changed: ['department', 'title'] },
  });
  t.same(diffIdentity(base, { groups: base.groups, claims: { sub: 'u1', jti: 'z' } }), { claims: { changed: ['department', 'roles'] } });
  // The groups claim (any name) is reported as groups, not as a changed claim.
  const withClaim = (groups: string[]) => ({ groups, claims: { 'https://example.com/groups': groups } });
  t.same(diffIdentity(withClaim(['a']), withClaim(['a', 'b'])), { groups: { added: ['b'], removed: [] } });
  t.equal(stableJson(undefined), 'undefined');
  t.equal(stableJson({ b: [1, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[1,{"c":2,"d":1}]}');
});

t.test('cursors', async (t) => {
  t.same(decodeCursor(encodeCursor([5, 'id-1']), 'string'), [5, 'id-1']);
  t.same(decodeCursor(encodeCursor([5, 7]), 'number'), [5, 7]);
  for (const bad of ['', '!!!', Buffer.from('[1]').toString('base64url'), encodeCursor([5, 'x']), Buffer.from('[1.5,2]').toString('base64url')]) {
    t.throws(() => decodeCursor(bad, 'number'), { name: 'StoreQueryError', param: 'cursor' }, JSON.stringify(bad));
  }
  t.throws(() => decodeCursor(encodeCursor([5, 7]), 'string'), { name: 'StoreQueryError', param: 'cursor' }, 'wrong kind of cursor');
  t.equal(pageLimit(0), 1);
  t.equal(pageLimit(10.7), 10);
  t.equal(pageLimit(1e9), 1000);
  t.equal(pageLimit(Number.NaN), 50);
});
