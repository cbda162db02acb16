// The heap governor: V8's growth is lowered only while the token cache evicts, and the operator's
// own heap flags leave V8 alone.
import t from 'tap';
import { CHURN_HEAP_GROWING_PERCENT, HeapGovernor, MISS_BURST, QUIET_CHECKS_TO_RELAX, YoungGenerationCap, operatorHeapFlags, operatorYoungFlags } from '../../src/process/heap.js';

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

t.test('the young generation grows to the cap, not past it, and grows again after V8 shrank it', async (t) => {
  const flags: string[] = [];
  let size = 1 << 20;
  const cap = new YoungGenerationCap(16 << 20, (f) => flags.push(f), () => size).freeze();
  t.same(flags, ['--semi-space-growth-factor=1'], 'frozen while the gateway starts');
  cap.start();
  t.teardown(() => cap.stop());
  t.same(flags.slice(1), ['--semi-space-growth-factor=2'], 'then V8 may grow it again');
  size = 8 << 20;
  t.notOk(cap.check(), 'below the cap');
  t.equal(flags.length, 2, 'nothing set again while nothing changes');
  size = 16 << 20;
  t.ok(cap.check(), 'at the cap');
  t.equal(flags.at(-1), '--semi-space-growth-factor=1', 'growth stopped');
  size = 2 << 20; // V8 shrank it while the process was idle
  t.notOk(cap.check());
  t.equal(flags.at(-1), '--semi-space-growth-factor=2', 'it may grow back to the cap');
});

t.test('a young generation already at the cap when serving starts stays frozen', async (t) => {
  const flags: string[] = [];
  const cap = new YoungGenerationCap(16 << 20, (f) => flags.push(f), () => 32 << 20).freeze().start();
  t.teardown(() => cap.stop());
  t.same(flags, ['--semi-space-growth-factor=1']);
});

t.test('the V8 flag really is honoured at run time: the young generation stays at its size once frozen', async (t) => {
  // The mechanism the cap relies on, in a child process (flags are process-wide): churn that grows
  // the young generation to 32 MiB by default leaves it at 2 MiB or less once the factor is 1.
  const { execFileSync } = await import('node:child_process');
  const script = `const v8=require('v8');v8.setFlagsFromString('--semi-space-growth-factor=1');let k=[];for(let i=0;i<3e6;i++){k.push({i});if(k.length>2e4)k=[];}
process.stdout.write(String(v8.getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size))`;
  const size = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  t.ok(size > 0 && size <= 2 << 20, `young generation ${size} bytes`);
});

t.test('an operator sizing the young generation turns the cap off', async (t) => {
  t.ok(operatorYoungFlags(['--max-semi-space-size=64'], ''));
  t.ok(operatorYoungFlags([], '--semi-space-growth-factor=2'));
  t.notOk(operatorYoungFlags(['--max-old-space-size=512'], ''));
});
