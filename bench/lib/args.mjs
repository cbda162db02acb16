// Command-line options for the bench scripts: `--help` prints the script's usage (the `node bench/…`
// lines of its header comment) and exits 0; a bad option is one line and exit code 2, no stack.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export function benchArgs(scriptUrl, options) {
  try {
    const parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } });
    if (parsed.values.help) {
      process.stdout.write(usage(scriptUrl) + 'See bench/README.md for what each figure means.\n');
      process.exit(0);
    }
    return parsed;
  } catch (err) {
    process.stderr.write(`${(err.message ?? String(err)).split('\n')[0]} (--help lists the options)\n`);
    process.exit(2);
  }
}

/** The usage lines of a script's header comment: from the first `//   node bench/…` line on. */
function usage(scriptUrl) {
  const lines = readFileSync(fileURLToPath(scriptUrl), 'utf8').split('\n');
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
  const first = header.findIndex((l) => /^\/\/\s+node bench\//.test(l));
  const picked = first < 0 ? header : header.slice(first).filter((l) => /^\/\/\s{2,}/.test(l));
  return 'usage:\n' + picked.map((l) => '  ' + l.replace(/^\/\/ {0,3}/, '')).join('\n') + '\n';
}
