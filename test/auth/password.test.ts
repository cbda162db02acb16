import t from 'tap';
import { hashSecret, isSecretHash, verifySecret } from '../../src/auth/password.js';

const fast = { N: 1024, r: 8, p: 1 };

t.test('hash and verify', async (t) => {
  const h = await hashSecret('correct horse', fast);
  t.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.ok(isSecretHash(h));
  t.equal(await verifySecret('correct horse', h), true);
  t.equal(await verifySecret('correct horsE', h), false);
  t.equal(await verifySecret('', h), false);
  t.not(await hashSecret('correct horse', fast), h, 'salted');
});

t.test('default parameters', async (t) => {
  const h = await hashSecret('s3cret');
  t.match(h, /^scrypt\$32768\$8\$1\$/);
  t.equal(await verifySecret('s3cret', h), true);
});

t.test('malformed or hostile hashes are rejected with false, never thrown', async (t) => {
  const good = await hashSecret('x', fast);
  const [, , , , salt, hash] = good.split('$');
  const cases = [
    '',
    'plain',
    'bcrypt$2b$10$abc',
    `scrypt$1024$8$1$${salt}`,
    `scrypt$1000$8$1$${salt}$${hash}`, // N not a power of two
    `scrypt$${2 ** 24}$8$1$${salt}$${hash}`, // N absurdly large: would allocate GBs
    `scrypt$1024$999$1$${salt}$${hash}`,
    `scrypt$1024$8$0$${salt}$${hash}`,
    `scrypt$1024$8$1$$${hash}`,
    `scrypt$1024$8$1$${salt}$AAAA`,
    `scrypt$-1$8$1$${salt}$${hash}`,
    `scrypt$1e3$8$1$${salt}$${hash}`,
  ];
  for (const c of cases) {
    t.equal(await verifySecret('x', c), false, c);
    t.notOk(isSecretHash(c), c);
  }
  t.equal(await verifySecret(undefined as unknown as string, good), false);
});
