// Node's process metrics: one "process" in the name, and the old doubled name kept for one release.
import t from 'tap';
import { Metrics } from '../src/metrics.js';

t.test('process CPU is gatehouse_process_cpu_seconds_total; the old name is still served', async (t) => {
  const text = await new Metrics({}, true).registry.metrics();
  t.match(text, /^gatehouse_process_cpu_seconds_total \d/m);
  t.match(text, /^gatehouse_nodejs_heap_size_used_bytes \d/m);
  t.match(text, /^gatehouse_process_process_cpu_seconds_total \d/m, 'deprecated name, removed in 0.3');
});
