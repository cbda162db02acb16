// Runs a Node entry point (argv[2…]) in this process with V8's sampling heap profiler on, keeping
// samples of objects that were already collected (so per-request garbage shows up, unlike
// `node --heap-prof`). On SIGUSR2 the profile is written to $ALLOC_PROFILE_OUT. Used by
// bench/profile.mjs --alloc.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((res, rej) => session.post(method, params, (err, r) => (err ? rej(err) : res(r))));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', {
  samplingInterval: Number(process.env.ALLOC_INTERVAL ?? 16384),
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
process.on('SIGUSR2', async () => {
  const { profile } = await post('HeapProfiler.stopSampling');
  writeFileSync(process.env.ALLOC_PROFILE_OUT, JSON.stringify(profile));
  process.stderr.write('alloc profile written\n');
});
const entry = resolve(process.argv[2]);
process.argv.splice(1, 1); // the entry sees its usual argv
await import(pathToFileURL(entry).href);
