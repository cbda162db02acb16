import t from 'tap';
import { cookieValue, extractCredential } from '../../src/auth/credentials.js';

const C = 'gh';

t.test('one credential each', async (t) => {
  t.same(extractCredential({}, C), { kind: 'none' });
  t.same(extractCredential({ cookie: 'gh=a.b.c' }, C), { kind: 'cookie', token: 'a.b.c' });
  t.same(extractCredential({ cookie: 'theme=dark; gh=a.b.c; x=1' }, C), { kind: 'cookie', token: 'a.b.c' });
  t.same(extractCredential({ authorization: 'Bearer a.b.c' }, C), { kind: 'bearer', token: 'a.b.c' });
  t.same(extractCredential({ authorization: 'bearer   a.b.c ' }, C), { kind: 'bearer', token: 'a.b.c' }, 'scheme is case-insensitive');
  t.same(extractCredential({ 'gatehouse-client-id': 'id', 'gatehouse-client-secret': 's' }, C), {
    kind: 'service',
    clientId: 'id',
    secret: 's',
  });
  t.same(extractCredential({ 'gatehouse-client-id': 'id' }, C), { kind: 'service', clientId: 'id', secret: '' }, 'half a pair still fails verification');
});

t.test('headers that are not ours', async (t) => {
  t.same(extractCredential({ authorization: 'Basic dXNlcjpwdw==' }, C), { kind: 'none' }, 'other schemes belong to the upstream');
  t.same(extractCredential({ authorization: 'Bearerx a' }, C), { kind: 'none' });
  t.same(extractCredential({ cookie: 'gh_csrf=zzz; other=gh' }, C), { kind: 'none' }, 'a longer cookie name is not ours');
  t.same(extractCredential({ cookie: 'gh=' }, C), { kind: 'none' }, 'an empty (cleared) cookie is no cookie');
  t.same(extractCredential({ authorization: 'Bearer ' }, C), { kind: 'bearer', token: '' }, 'an empty bearer was still sent');
});

t.test('conflicts', async (t) => {
  t.same(extractCredential({ cookie: 'gh=a.b.c', authorization: 'Bearer a.b.c' }, C), { kind: 'bearer', token: 'a.b.c' }, 'same token twice is one identity');
  t.same(extractCredential({ cookie: 'gh=a.b.c', authorization: 'Bearer x.y.z' }, C), { kind: 'conflict' });
  t.same(extractCredential({ cookie: 'gh=a.b.c', 'gatehouse-client-id': 'i', 'gatehouse-client-secret': 's' }, C), { kind: 'conflict' });
  t.same(extractCredential({ authorization: 'Bearer a.b.c', 'gatehouse-client-secret': 's' }, C), { kind: 'conflict' });
  t.same(extractCredential({ cookie: 'gh=a.b.c; gh=x.y.z' }, C), { kind: 'conflict' }, 'two of our cookies, different values');
  t.same(extractCredential({ cookie: 'gh=a.b.c; x=1; gh=a.b.c' }, C), { kind: 'cookie', token: 'a.b.c' }, 'duplicates with one value are fine');
  t.same(extractCredential({ cookie: 'gh=a.b.c; gh_csrf=q' }, C), { kind: 'cookie', token: 'a.b.c' });
  t.same(extractCredential({ cookie: 'gh =a.b.c; gh=x.y.z' }, C), { kind: 'conflict' }, 'whitespace around the name does not hide a duplicate');
});

t.test('cookieValue', async (t) => {
  t.equal(cookieValue(undefined, C), null);
  t.equal(cookieValue('a=1', C), null);
  t.equal(cookieValue('gh="a.b.c"', C), '"a.b.c"', 'quotes kept, as the cookie package reads them (verification then refuses the shape)');
  t.equal(cookieValue('gh=a%2Eb', C), 'a.b', 'percent-decoded like the cookie package');
});
