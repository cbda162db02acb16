// The gateway-side commands (keys, check, start, usage slips) as real processes: every error is
// one line that says what to do, exit code 2 for a usage slip, never a stack trace.
import t from 'tap';
import { join } from 'node:path';
import { gatehouse as run } from './cli-run.js';

// Each command is a real node process: allow for a slow, busy machine.
t.setTimeout(300_000);

const gatehouse = (args: string[]) => run(args, { timeout: 240_000 });

t.test('gateway-side commands: one line that says what to do, exit 2 for a usage slip', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'keys.json');
  t.equal((await gatehouse(['keys', 'generate', '--out', out])).code, 0);
  const again = await gatehouse(['keys', 'generate', '--out', out]);
  t.equal(again.code, 2);
  t.equal(again.stderr, `gatehouse keys: ${out} already holds a key set: add a key with --rotate, or give another --out (usage: gatehouse keys generate --out FILE [--alg ES256] [--rotate [--activate-in 10m]])\n`);
  const append = await gatehouse(['keys', 'generate', '--out', out, '--append']);
  t.equal(append.code, 2);
  t.match(append.stderr, /^gatehouse keys: unknown option --append \(options: --out, --alg, --rotate, --activate-in\) \(usage: .*\)\n$/);
  t.equal((await gatehouse(['keys', 'generate', '--out', out, '--rotate'])).code, 0, '--rotate adds a key');
  const slips = [['keys'], ['keys', 'generate'], ['keys', 'generate', '--out', out, '--alg', 'HS1'], ['check', '--bogus'], ['start', '--config'], ['frobnicate'], ['decisions', '--outcome']];
  const answers = await Promise.all(slips.map((args) => gatehouse(args)));
  slips.forEach((args, i) => {
    t.equal(answers[i]?.code, 2, args.join(' '));
    t.match(answers[i]?.stderr, /^gatehouse[ :][^\n]+\n$/, `${args.join(' ')}: one line`);
  });
  const missing = await gatehouse(['check', '--config', join(dir, 'nope.yaml')]);
  t.equal(missing.code, 1);
  t.notMatch(missing.stderr, /\n\s+at /, 'no stack trace');
});
