// Argument parsing shared by every `gatehouse` command: a usage slip is one line that says what to
// type instead (exit code 2), never node's parseArgs message or a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage error: the command prints `gatehouse <cmd>: <message> (usage: …)` and exits 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export function parseCommandArgs(args: string[], options: Options, positionals = false): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(usageMessage(err as Error & { code?: string }, options));
  }
}

/** node:util's parse errors, shortened to what the user must change. */
function usageMessage(err: Error & { code?: string }, options: Options): string {
  const name = /'(-{1,2}[\w-]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = Object.keys(options).map((o) => `--${o}`);
      return `unknown option ${name ?? ''}${known.length ? ` (options: ${known.join(', ')})` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option ${name ?? ''} ${/argument missing/.test(err.message) ? 'needs a value' : 'takes no value'}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(err.message)?.[1] ?? ''}`.trim();
    default:
      return err.message.split('\n')[0] ?? 'bad arguments';
  }
}

/** One line on stderr for a usage error; the exit code to return. */
export function reportUsage(command: string, err: UsageError, usage: string): number {
  process.stderr.write(`gatehouse ${command}: ${err.message} (usage: ${usage})\n`);
  return 2;
}
