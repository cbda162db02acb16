// The heap limit given to `workers: N` processes: derived from the cache bound, never overriding
// the operator's own.
import t from 'tap';
import { HEAP_ALLOWANCE_MIB, heapLimitArg } from '../src/cluster.js';

t.test('derived from session.cache.max_bytes', async (t) => {
  t.equal(heapLimitArg(64 * 2 ** 20, [], ''), `--max-old-space-size=${64 + HEAP_ALLOWANCE_MIB}`);
  t.equal(heapLimitArg(64 * 2 ** 20 + 1, [], ''), `--max-old-space-size=${65 + HEAP_ALLOWANCE_MIB}`, 'rounded up');
});

t.test("an explicit heap limit wins", async (t) => {
  t.equal(heapLimitArg(2 ** 26, ['--max-old-space-size=512'], ''), null, 'execArgv');
  t.equal(heapLimitArg(2 ** 26, ['--max_old_space_size=512'], ''), null, 'underscores');
  t.equal(heapLimitArg(2 ** 26, ['--max-heap-size=512'], ''), null, '--max-heap-size');
  t.equal(heapLimitArg(2 ** 26, [], '--enable-source-maps --max-old-space-size=300'), null, 'NODE_OPTIONS');
  t.equal(heapLimitArg(2 ** 26, ['--enable-source-maps'], '--max-old-space-size-x'), `--max-old-space-size=${64 + HEAP_ALLOWANCE_MIB}`, 'other flags do not count');
});
