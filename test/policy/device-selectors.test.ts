// device: and posture: selectors through evaluate(): fail closed on unknown and stale facts, with
// the reason; versions compared part by part; User-Agent facts marked client-claimed.
import t from 'tap';
import type { DeviceFacts, RuleConfig } from '../../src/policy/types.js';
import { compareVersions, parseVersion } from '../../src/policy/versions.js';
import { facts, one, person } from './fixtures/identities.js';

const DAY = 86_400_000;
const now = Date.now();
function laptop(posture: DeviceFacts['posture'] = {}, over: Partial<DeviceFacts> = {}): DeviceFacts {
  return { id: 'dev_1', name: 'Ann’s laptop', attachment: 'platform', aaguid: '00000000-0000-0000-0000-000000000000', enrolledAt: now, approvedAt: now, lastAssertionAt: now, posture, ...over };
}
const reason = (rule: RuleConfig, device?: DeviceFacts, f = facts()) => {
  const d = one(rule, person(device ? { device } : {}), f);
  return { outcome: d.outcome, reason: d.reasons[0] };
};

t.test('device: enrolled | approved', async (t) => {
  t.same(reason({ device: 'enrolled' }, laptop()), { outcome: 'allow', reason: 'include[0] device enrolled: matched' });
  t.same(reason({ device: 'enrolled' }), { outcome: 'deny', reason: 'p: include[0] device enrolled: no device bound to this session' });
  t.same(reason({ device: 'approved' }, laptop({}, { approvedAt: null })), { outcome: 'deny', reason: 'p: include[0] device approved: device Ann’s laptop is pending approval' });
  t.equal(reason({ device: 'approved' }, laptop()).outcome, 'allow');
});

t.test('posture: equals, in, at_least, at_most; unknown and stale never match', async (t) => {
  const fresh = laptop({ disk_encrypted: { value: true, at: now }, os: { value: 'macOS', at: now }, os_version: { value: '14.2.1', at: now } });
  t.equal(reason({ posture: { fact: 'disk_encrypted', equals: true } }, fresh).outcome, 'allow');
  t.equal(reason({ posture: { fact: 'os', in: ['Windows', 'macOS'] } }, fresh).outcome, 'allow');
  t.equal(reason({ posture: { fact: 'os_version', at_least: '14.2' } }, fresh).outcome, 'allow', '14.2.1 ≥ 14.2');
  t.equal(reason({ posture: { fact: 'os_version', at_least: '14.10' } }, fresh).outcome, 'deny', '14.2.1 < 14.10 (numeric, not text)');
  t.equal(reason({ posture: { fact: 'os_version', at_most: '14.2.1' } }, fresh).outcome, 'allow');
  t.same(reason({ posture: { fact: 'disk_encrypted', equals: true } }, laptop({ disk_encrypted: { value: false, at: now } })), {
    outcome: 'deny',
    reason: 'p: include[0] posture disk_encrypted: is false, needs = true',
  });
  t.same(reason({ posture: { fact: 'firewall', equals: true } }, fresh), { outcome: 'deny', reason: 'p: include[0] posture firewall: unknown (never reported)' });
  const stale = laptop({ disk_encrypted: { value: true, at: now - 3 * DAY } });
  t.same(reason({ posture: { fact: 'disk_encrypted', equals: true } }, stale), { outcome: 'deny', reason: 'p: include[0] posture disk_encrypted: unknown (last report 3d ago)' });
  t.equal(reason({ posture: { fact: 'disk_encrypted', equals: true } }, stale, facts({ postureMaxAgeMs: 7 * DAY })).outcome, 'allow', 'posture.max_age decides what is stale');
  t.same(reason({ posture: { fact: 'disk_encrypted', equals: true } }), { outcome: 'deny', reason: 'p: include[0] posture disk_encrypted: no device bound to this session' });
  // In exclude, an unknown fact does not match either: the exclusion cannot be dodged, but neither
  // does it let anyone in (the include decides).
  const d = one({ everyone: true }, person({ device: stale }), facts());
  t.equal(d.outcome, 'allow');
});

t.test('posture on User-Agent facts: client-claimed', async (t) => {
  const f = facts({ agent: { ua_browser: 'Chrome', ua_browser_version: '131.0.6778.85' } });
  t.same(reason({ posture: { fact: 'ua_browser_version', at_least: '120' } }, undefined, f), {
    outcome: 'allow',
    reason: 'include[0] posture ua_browser_version: 131.0.6778.85 ≥ 120 (user agent, client-claimed)',
  });
  t.same(reason({ posture: { fact: 'ua_os', equals: 'Windows' } }, undefined, f), { outcome: 'deny', reason: 'p: include[0] posture ua_os: unknown (the user agent does not say)' });
});

t.test('versions', async (t) => {
  t.same(parseVersion('v14.2.1'), [14, 2, 1]);
  t.equal(parseVersion('14.x'), null);
  t.ok(compareVersions([14, 2, 1], [14, 2]) > 0);
  t.equal(compareVersions([14, 2, 0], [14, 2]), 0);
});
