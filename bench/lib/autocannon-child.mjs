// Runs autocannon programmatically in its own process (the load must not share the harness's
// event loop) and prints its result as one JSON line. argv[2] is a JSON object of options.
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2]);
const result = await autocannon({ ...opts, renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
process.stdout.write(
  'ACJSON ' +
    JSON.stringify({
      requests: result.requests.total,
      duration: result.duration,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodeStats: result.statusCodeStats,
      latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    }) +
    '\n',
);
