// The SCIM filter and PATCH path parser (RFC 7644 §3.4.2.2, §3.5.2): each MUST in filter.ts's
// checklist, the shapes Okta and Entra send, and the inputs that must be refused.
import t from 'tap';
import { parseFilter, parsePath } from '../../../src/identity/scim/filter.js';

t.test('the filters Okta and Entra send', async (t) => {
  t.same(parseFilter('userName eq "ann@corp.example"'), { op: 'eq', attr: { name: 'userName' }, value: 'ann@corp.example' });
  t.same(parseFilter('externalId eq "00u1"'), { op: 'eq', attr: { name: 'externalId' }, value: '00u1' });
  t.same(parseFilter('displayName eq "wiki-editors"'), { op: 'eq', attr: { name: 'displayName' }, value: 'wiki-editors' });
  t.same(parseFilter('emails.value eq "a@b.c"'), { op: 'eq', attr: { name: 'emails', sub: 'value' }, value: 'a@b.c' });
  t.same(parseFilter('userName eq "a" and externalId eq "b"'), {
    op: 'and',
    left: { op: 'eq', attr: { name: 'userName' }, value: 'a' },
    right: { op: 'eq', attr: { name: 'externalId' }, value: 'b' },
  });
  // Entra: a valuePath with a compared sub-attribute means ONE email that is both.
  t.same(parseFilter('emails[type eq "work"].value eq "x@y.z"'), {
    op: 'has',
    attr: { name: 'emails' },
    filter: { op: 'and', left: { op: 'eq', attr: { name: 'type' }, value: 'work' }, right: { op: 'eq', attr: { name: 'value' }, value: 'x@y.z' } },
  });
});

t.test('operators, values and names are case-insensitive; precedence is not > and > or', async (t) => {
  t.same(parseFilter('USERNAME EQ "x"'), { op: 'eq', attr: { name: 'USERNAME' }, value: 'x' });
  const f = parseFilter('a eq 1 or b eq true and not (c pr)');
  t.equal(f.op, 'or');
  t.same(f.op === 'or' && f.right, { op: 'and', left: { op: 'eq', attr: { name: 'b' }, value: true }, right: { op: 'not', filter: { op: 'pr', attr: { name: 'c' } } } });
  t.same(parseFilter('(a eq null)'), { op: 'eq', attr: { name: 'a' }, value: null });
  t.same(parseFilter('meta.lastModified gt "2026-01-01T00:00:00Z"'), { op: 'gt', attr: { name: 'meta', sub: 'lastModified' }, value: '2026-01-01T00:00:00Z' });
  t.same(parseFilter('n ge -1.5e2'), { op: 'ge', attr: { name: 'n' }, value: -150 });
  t.same(parseFilter('userName eq "quote \\" inside"'), { op: 'eq', attr: { name: 'userName' }, value: 'quote " inside' });
  t.same(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "a"'), {
    op: 'sw',
    attr: { uri: 'urn:ietf:params:scim:schemas:core:2.0:User', name: 'userName' },
    value: 'a',
  });
});

t.test('bad filters are refused with a message that says where', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['userName eq', /expected a value/],
    ['userName "x"', /expected an operator/],
    ['userName xx "x"', /expected an operator/],
    ['userName eq "x" garbage', /unexpected "garbage"/],
    ['userName eq "unterminated', /unterminated string/],
    ['(userName eq "x"', /expected "\)"/],
    ['userName eq bare', /expected a value/],
    ['emails[type eq "work"', /expected "\]"/],
    ['emails[members[value eq "x"]]', /cannot nest/],
    ['1abc eq "x"', /not an attribute path/],
    ['a.b.c eq "x"', /not an attribute path/],
    ['userName eq "x" and', /expected an attribute name/],
    ['', /expected an attribute name/],
    ['a eq "x" ' + 'or a eq "x" '.repeat(70), /more than 64/],
    ['('.repeat(20) + 'a pr' + ')'.repeat(20), /nested deeper/],
    ['a eq "' + 'x'.repeat(5000) + '"', /longer than 4096/],
  ];
  for (const [text, message] of cases) t.throws(() => parseFilter(text), { name: 'ScimSyntaxError', message }, text);
});

t.test('PATCH paths', async (t) => {
  t.same(parsePath('active'), { attr: { name: 'active' } });
  t.same(parsePath('name.familyName'), { attr: { name: 'name', sub: 'familyName' } });
  t.same(parsePath('members[value eq "2819c223"]'), { attr: { name: 'members' }, filter: { op: 'eq', attr: { name: 'value' }, value: '2819c223' } });
  t.same(parsePath('emails[type eq "work"].value'), { attr: { name: 'emails' }, filter: { op: 'eq', attr: { name: 'type' }, value: 'work' }, sub: 'value' });
  t.same(parsePath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department'), {
    attr: { uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', name: 'department' },
  });
  for (const bad of ['emails[type eq "work"]value', 'name.familyName[type eq "x"]', 'emails[type eq "w"].', 'a b', 'emails[type eq]', 'members[value eq "x"].a.b']) {
    t.throws(() => parsePath(bad), { name: 'ScimSyntaxError' }, bad);
  }
});
