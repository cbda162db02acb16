// The build's ready-made request validators (src/admin/write-validators.ts, run by `npm run build`):
// the built gateway checks with them, and they refuse the same requests with the same sentences as
// validators compiled at run time (the in-process tests use those: src/ has no generated file).
import t from 'tap';
import { resolve } from 'node:path';
import type { TObject } from '@sinclair/typebox';

const dist = resolve(import.meta.dirname, '../../dist/admin');
const built = (await import(`${dist}/check.js`)) as typeof import('../../src/admin/check.js');
const builtRoutes = (await import(`${dist}/routes.js`)) as typeof import('../../src/admin/routes.js');
const builtPolicy = (await import(`${dist}/schemas-policy.js`)) as typeof import('../../src/admin/schemas-policy.js');
const here = await import('../../src/admin/check.js');
const routes = await import('../../src/admin/routes.js');
const policy = await import('../../src/admin/schemas-policy.js');

/** The 400 a check answers ('' when the value passes). */
function refusal(check: typeof here.check, schema: TObject, value: object, what: string, prefix = ''): string {
  try {
    check(schema, value, what, prefix);
    return '';
  } catch (err) {
    return `${(err as { param?: string }).param}: ${(err as Error).message}`;
  }
}

t.test('the built gateway checks with the ready-made validators; src/ compiles its own', async (t) => {
  t.equal(built.precompiledChecks(), true, 'npm run build wrote dist/admin/validators.generated.cjs for these schemas');
  t.equal(here.precompiledChecks(), false);
});

t.test('ready-made and run-time validators refuse the same requests with the same sentences', async (t) => {
  const cases: Array<[string, 'query' | 'params' | 'identity' | 'device', object]> = [
    ['GET /admin/sessions', 'query', { limit: '5', active: 'true', email: 'a@b.c' }],
    ['GET /admin/sessions', 'query', { limit: '501' }],
    ['GET /admin/sessions', 'query', { emial: 'x', limit: '0' }],
    ['GET /admin/decisions', 'query', { outcome: 'maybe', since: '5x' }],
    ['DELETE /admin/login/lockouts/:kind/:key', 'params', { kind: 'robot', key: 'x' }],
    ['GET /admin/devices', 'query', { state: 'lost' }],
    ['', 'identity', { groups: ['staff', 7], kind: 'robot' }],
    ['', 'identity', { certificate: { subject: 1 } }],
    ['', 'identity', { grups: [] }],
    ['', 'device', { approved: 'yes' }],
  ];
  for (const [key, part, value] of cases) {
    const pick = (r: typeof routes, p: typeof policy) =>
      (part === 'identity' ? p.IdentityIn : part === 'device' ? p.DeviceIn : (r.ADMIN_ROUTES[key as keyof typeof r.ADMIN_ROUTES] as unknown as Record<string, TObject>)[part]) as TObject;
    const what = part === 'query' ? 'query parameter' : part === 'params' ? 'path parameter' : 'field';
    const prefix = part === 'identity' || part === 'device' ? `${part}.` : '';
    const expected = refusal(here.check, pick(routes, policy), value, what, prefix);
    t.equal(refusal(built.check, pick(builtRoutes, builtPolicy), value, what, prefix), expected, `${key || part} ${JSON.stringify(value)}: ${expected || 'passes'}`);
  }
});
