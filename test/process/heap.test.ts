// The heap governor: V8's growth is lowered only while the token cache evicts, and the operator's
// own heap flags leave V8 alone.
import t from 'tap';
import { CHURN_HEAP_GROWING_PERCENT, HeapGovernor, MISS_BURST, QUIET_CHECKS_TO_RELAX, operatorHeapFlags } from '../../src/process/heap.js';

t.test('tight while the cache evicts, relaxed after a quiet spell', async (t) => {
  let evictions = 0;
  const misses = 0;
  const flags: string[] = [];
  const g = new HeapGovernor(() => ({ evictions, misses }), (f) => flags.push(f));
  g.check();
  t.same(flags, [], 'no churn: V8 decides');
  evictions = 10;
  g.check();
  t.same(flags, [`--heap-growing-percent=${CHURN_HEAP_GROWING_PERCENT}`]);
  t.ok(g.tight);
  evictions = 25;
  g.check();
  t.equal(flags.length, 1, 'set once, not on every check');
  for (let i = 0; i < QUIET_CHECKS_TO_RELAX - 1; i++) g.check();
  t.ok(g.tight, 'still tight just before the quiet spell ends');
  g.check();
  t.notOk(g.tight);
  t.equal(flags.at(-1), '--heap-growing-percent=0', 'V8’s own growth back');
  evictions = 0;
  g.check();
  t.notOk(g.tight, 'a new cache (reload) whose counter starts again is not churn');
  evictions = 3;
  g.check();
  t.ok(g.tight);
  g.stop();
  t.equal(flags.at(-1), '--heap-growing-percent=0', 'stop restores');
});

t.test('a burst of new tokens counts as churn before the cache is full', async (t) => {
  let misses = 0;
  const flags: string[] = [];
  const g = new HeapGovernor(() => ({ evictions: 0, misses }), (f) => flags.push(f));
  misses += MISS_BURST - 1;
  g.check();
  t.notOk(g.tight, 'a few new sessions a second are ordinary');
  misses += MISS_BURST;
  g.check();
  t.ok(g.tight, 'a flood filling the cache is churn');
});

t.test("the operator's heap flags win", async (t) => {
  t.notOk(operatorHeapFlags([], ''));
  t.notOk(operatorHeapFlags(['--enable-source-maps'], '--max-old-space-size-x'), 'other flags do not count');
  t.ok(operatorHeapFlags(['--max-old-space-size=512'], ''), 'execArgv');
  t.ok(operatorHeapFlags(['--max_old_space_size=512'], ''), 'underscores');
  t.ok(operatorHeapFlags(['--max-heap-size=512'], ''), '--max-heap-size');
  t.ok(operatorHeapFlags(['--heap-growing-percent=200'], ''), 'their own growth');
  t.ok(operatorHeapFlags([], '--enable-source-maps --max-old-space-size=300'), 'NODE_OPTIONS');
});
