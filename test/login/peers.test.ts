// With `workers: N` and no shared store, sign-in state is mirrored between workers. Two in-process
// "workers" wired by a channel pair stand in for node:cluster's primary relay.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { channelPair, Peers } from '../../src/login/peers.js';
import { MemorySignInState } from '../../src/login/memory-state.js';
import { LoginThrottle } from '../../src/login/throttle.js';

const settle = () => sleep(1);
const LATER = () => Date.now() + 60_000;

function workers() {
  const [ca, cb] = channelPair();
  return [new MemorySignInState(new Peers(ca)), new MemorySignInState(new Peers(cb))] as const;
}

t.test('a value put on one worker is taken on another, once', async (t) => {
  const [a, b] = workers();
  await a.putOnce('code-1', 'sealed', LATER());
  await settle();
  t.equal(await b.takeOnce('code-1', Date.now()), 'sealed', 'the handoff on worker B finds it');
  await settle();
  t.equal(await a.takeOnce('code-1', Date.now()), null, 'and it is gone on worker A too');
});

t.test('a take waits briefly for a put still on its way', async (t) => {
  const [a, b] = workers();
  const pending = b.takeOnce('code', Date.now());
  setTimeout(() => void a.putOnce('code', 'v', LATER()), 20);
  t.equal(await pending, 'v');
  t.equal(await b.takeOnce('never', Date.now()), null, 'a miss gives up (after a short wait for peers)');
});

t.test('a mark made on one worker holds on the other (a finished flow, a used TOTP step)', async (t) => {
  const [a, b] = workers();
  t.ok(await a.advance('flow:x', 1, LATER(), Date.now()));
  await settle();
  t.notOk(await b.advance('flow:x', 1, LATER(), Date.now()), 'replayed on worker B: refused');
});

t.test('failures on any worker count towards one lockout', async (t) => {
  const [sa, sb] = workers();
  const settings = { lockoutThreshold: 3, lockoutWindowMs: 60_000, lockoutDurationMs: 60_000 };
  const a = new LoginThrottle(settings, sa);
  const b = new LoginThrottle(settings, sb);
  await a.fail('x@y', '10.0.0.1');
  await settle();
  await b.fail('x@y', '10.0.0.2');
  await settle();
  t.match(await a.fail('x@y', '10.0.0.3'), { kind: 'user', key: 'x@y' }, 'the third failure, wherever it happened, locks');
  await settle();
  t.match(await b.locked('x@y', '10.9.9.9'), { kind: 'user' }, 'locked on the other worker too');
  t.equal((await b.lockouts()).length, 1, 'admins see it from any worker');
  await b.unlock('user', 'X@Y');
  await settle();
  t.equal(await a.locked('x@y', '10.0.0.1'), null, 'an unlock reaches every worker');
});

t.test('no cluster: no channel, nothing waits', async (t) => {
  const p = new Peers(null);
  t.equal(p.shared, false);
  const s = new MemorySignInState(p);
  // No peers to wait for: the answer comes before any timer could fire.
  const first = await Promise.race([s.takeOnce('missing', Date.now()).then((v) => ({ answered: v })), new Promise((r) => setTimeout(() => r('a timer fired first'), 0))]);
  t.same(first, { answered: null });
});
