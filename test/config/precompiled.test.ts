// The build's precompiled config validators (src/config/write-validators.ts, run by `npm run build`):
// the built gateway uses them, and they find the same problems, with the same words and positions,
// as validators compiled at run time (the in-process tests use those: src/ has no generated file).
import t from 'tap';
import { resolve } from 'node:path';
import { APP, GATEWAY, problems, setup } from './fixture.js';

const dist = resolve(import.meta.dirname, '../../dist/config');
const built = (await import(`${dist}/validate.js`)) as typeof import('../../src/config/validate.js');
const builtLoad = (await import(`${dist}/load.js`)) as typeof import('../../src/config/load.js');
const builtTypes = (await import(`${dist}/types.js`)) as typeof import('../../src/config/types.js');
const here = (await import('../../src/config/validate.js')) as typeof import('../../src/config/validate.js');

async function builtProblems(file: string): Promise<string[]> {
  try {
    await builtLoad.loadConfig(file, {});
    return [];
  } catch (err) {
    if (err instanceof builtTypes.ConfigError) return err.problems.map(builtTypes.formatProblem);
    throw err;
  }
}

t.test('the built gateway validates with the precompiled validators; src/ compiles its own', async (t) => {
  t.equal(built.precompiledValidators, true, 'npm run build wrote dist/config/validators.generated.cjs for these schemas');
  t.equal(here.precompiledValidators, false);
});

t.test('precompiled and run-time validators report the same problems', async (t) => {
  const cases: Array<[string, string]> = [
    ['valid', APP()],
    ['wrong types and unknown keys', `name: wiki\nhosts: wiki.corp.example\nupstream: 3000\ntimeout: soon\npolicy: []\npolicies:\n  - name: Open\n    action: maybe\n    include: [{ everyone: yes }]\n`],
    ['missing keys', 'name: wiki\n'],
  ];
  for (const [what, app] of cases) {
    const file = setup(t, { 'wiki.yaml': app }, `${GATEWAY}limits: { drain_delay: soon, max_connections: 0 }\nlog: { level: loud }\n`);
    const expected = await problems(file);
    t.ok(expected.length > 0, `${what}: problems found`);
    t.same(await builtProblems(file), expected, what);
  }
});
