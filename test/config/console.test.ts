// admin.console_host and admin.console_policies: the built-in console app, and clear problems with
// positions for what cannot work.
import t from 'tap';
import { APP, GATEWAY, load, problems, setup } from './fixture.js';

const withConsole = (extra: string) => GATEWAY.replace('  listen: 127.0.0.1:9901\n', `  listen: 127.0.0.1:9901\n${extra}`);

const POLICIES = `  console_policies:
    operator:
      - name: sre
        action: allow
        include:
          - group: sre
    viewer:
      - name: helpdesk
        action: allow
        include:
          - group: helpdesk
`;

t.test('console_host adds the built-in app, with both roles\' policies', async (t) => {
  const c = await load(t, setup(t, { 'wiki.yaml': APP() }, withConsole(`  console_host: Console.Corp.Example\n${POLICIES}`)));
  t.equal(c.admin.consoleHost, 'console.corp.example');
  t.same(c.admin.consolePolicies?.operator.map((p) => p.name), ['sre']);
  const app = c.apps.find((a) => a.builtin === 'console');
  t.match(app, { name: 'gatehouse-console', hosts: ['console.corp.example'], paths: ['/'] });
  t.same(app?.policies.map((p) => p.name), ['sre', 'helpdesk']);
  t.notOk(app?.upstream, 'no upstream: Gatehouse serves it');
});

t.test('without console_host nothing is added', async (t) => {
  const c = await load(t, setup(t, { 'wiki.yaml': APP() }));
  t.same(c.apps.map((a) => a.name), ['wiki']);
  t.notOk(c.admin.consoleHost);
});

t.test('problems name the key and its position', async (t) => {
  t.same(await problems(setup(t, { 'wiki.yaml': APP() }, withConsole('  console_host: console.corp.example\n'))), [
    'gateway.yaml:4:17 admin.console_host: needs admin.console_policies (operator and/or viewer): without them nobody could use the console',
  ]);
  t.same(await problems(setup(t, { 'wiki.yaml': APP() }, withConsole(`  console_host: wiki.corp.example\n${POLICIES}`))), [
    `gateway.yaml:4:17 admin.console_host: wiki.corp.example is also claimed by app "wiki" in ${t.testdirName}/apps/wiki.yaml`,
  ]);
  const dup = POLICIES.replace('name: helpdesk', 'name: sre');
  t.same(await problems(setup(t, { 'wiki.yaml': APP() }, withConsole(`  console_host: console.corp.example\n${dup}`))), [
    'gateway.yaml:12:15 admin.console_policies.viewer[0].name: policy name "sre" is already used by an operator policy',
  ]);
  const bad = POLICIES.replace('- group: helpdesk', '- grup: helpdesk');
  const out = await problems(setup(t, { 'wiki.yaml': APP() }, withConsole(`  console_host: console.corp.example\n${bad}`)));
  t.match(out[0], /^gateway\.yaml:\d+:\d+ .*grup/, 'a typo in a rule is reported with its position');
});
