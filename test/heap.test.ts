// The V8 heap growth every gateway process sets at start, unless the operator chose heap flags.
import t from 'tap';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../src/heap.js';

t.test('set by default', async (t) => {
  t.equal(heapGrowthFlag([], ''), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  t.equal(heapGrowthFlag(['--enable-source-maps'], '--max-old-space-size-x'), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, 'other flags do not count');
});

t.test("the operator's heap flags win", async (t) => {
  t.equal(heapGrowthFlag(['--max-old-space-size=512'], ''), null, 'execArgv');
  t.equal(heapGrowthFlag(['--max_old_space_size=512'], ''), null, 'underscores');
  t.equal(heapGrowthFlag(['--max-heap-size=512'], ''), null, '--max-heap-size');
  t.equal(heapGrowthFlag(['--heap-growing-percent=200'], ''), null, 'their own growth');
  t.equal(heapGrowthFlag([], '--enable-source-maps --max-old-space-size=300'), null, 'NODE_OPTIONS');
});
