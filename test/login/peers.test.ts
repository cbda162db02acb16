// With `workers: N`, sign-in state is mirrored between workers. Two in-process "workers" wired by a
// channel pair stand in for node:cluster's primary relay.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { channelPair, Peers } from '../../src/login/peers.js';
import { SingleUseStore } from '../../src/login/single-use.js';
import { LoginThrottle } from '../../src/login/throttle.js';

const settle = () => sleep(1);

function workers() {
  const [ca, cb] = channelPair();
  return [new Peers(ca), new Peers(cb)] as const;
}

t.test('a flow started on one worker is finished on another, once', async (t) => {
  const [pa, pb] = workers();
  const a = new SingleUseStore<{ v: string }>(600_000, 100, Date.now, { peers: pa, topic: 'flows' });
  const b = new SingleUseStore<{ v: string }>(600_000, 100, Date.now, { peers: pb, topic: 'flows' });
  a.put('state-1', { v: 'verifier' });
  await settle();
  t.same(await b.takeSoon('state-1'), { v: 'verifier' }, 'the callback on worker B finds it');
  await settle();
  t.equal(a.take('state-1'), undefined, 'and it is gone on worker A too');
});

t.test('a take waits briefly for a put still on its way', async (t) => {
  const [pa, pb] = workers();
  const a = new SingleUseStore<{ v: number }>(60_000, 100, Date.now, { peers: pa, topic: 'handoffs' });
  const b = new SingleUseStore<{ v: number }>(60_000, 100, Date.now, { peers: pb, topic: 'handoffs' });
  const pending = b.takeSoon('code');
  setTimeout(() => a.put('code', { v: 1 }), 20);
  t.same(await pending, { v: 1 });
  const started = Date.now();
  t.equal(await b.takeSoon('never'), undefined);
  t.ok(Date.now() - started < 500, 'a miss gives up quickly');
});

t.test('failures on any worker count towards one lockout', async (t) => {
  const [pa, pb] = workers();
  const settings = { lockoutThreshold: 3, lockoutWindowMs: 60_000, lockoutDurationMs: 60_000 };
  const a = new LoginThrottle(settings, Date.now, pa);
  const b = new LoginThrottle(settings, Date.now, pb);
  a.fail('x@y', '10.0.0.1');
  await settle();
  b.fail('x@y', '10.0.0.2');
  await settle();
  t.match(a.fail('x@y', '10.0.0.3'), { kind: 'user', key: 'x@y' }, 'the third failure, wherever it happened, locks');
  await settle();
  t.match(b.locked('x@y', '10.9.9.9'), { kind: 'user' }, 'locked on the other worker too');
  t.equal(b.lockouts().length, 1, 'admins see it from any worker');
  b.unlock('user', 'X@Y');
  await settle();
  t.equal(a.locked('x@y', '10.0.0.1'), null, 'an unlock reaches every worker');
});

t.test('no cluster: no channel, nothing waits', async (t) => {
  const p = new Peers(null);
  t.equal(p.shared, false);
  const s = new SingleUseStore<{ v: number }>(1000, 10, Date.now, { peers: p, topic: 'x' });
  const started = Date.now();
  t.equal(await s.takeSoon('missing'), undefined);
  t.ok(Date.now() - started < 20);
});
