#!/usr/bin/env node
// The `gatehouse` command. Thin: parses the command word and loads only what that command needs
// (the admin commands are small HTTP clients; they should not load the whole gateway).

const USAGE = `usage: gatehouse <command> [options]

commands:
  start --config FILE [--example-upstream]   run the gateway
  check --config FILE                        validate the config; print every problem
  keys generate --out FILE [--alg ES256] [--rotate [--activate-in 10m]]
                                             write a signing key set (--rotate adds a key that
                                             signs after --activate-in; all keys verify)
  backup --config FILE --out FILE            copy the SQLite store while the gateway runs
  users hash-password [PASSWORD]             print a hash for users.yaml / service_tokens
                                             (reads stdin when no argument is given)
  sessions list|show ID|revoke ID [--reason R]
  users list|show EMAIL|logout EMAIL
  decisions [--request-id ID] [--email E] [--app A] [--outcome O] [--since 1h]
  login lockouts [list] | login lockouts lift user|ip KEY
  policy-test --app APP (--email E | --session-id ID | --identity JSON | --file APP.yaml [--since 24h])
                                             admin API commands: read GATEHOUSE_ADMIN_URL and
                                             GATEHOUSE_ADMIN_TOKEN; --json prints raw JSON
`;

import { reportUsage, UsageError } from './cli-args.js';

/** The one-line usage each gateway-side command prints with a usage error. */
const COMMAND_USAGE: Record<string, string> = {
  start: 'gatehouse start --config FILE [--example-upstream]',
  check: 'gatehouse check --config FILE',
  keys: 'gatehouse keys generate --out FILE [--alg ES256] [--rotate [--activate-in 10m]]',
  users: 'gatehouse users hash-password [PASSWORD]',
  backup: 'gatehouse backup --config FILE --out FILE',
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    return await run(command, rest);
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(command ?? '', err, COMMAND_USAGE[command ?? ''] ?? 'gatehouse help');
    // Not a bug report: one line naming what failed (a file, a port, a permission).
    process.stderr.write(`gatehouse ${command ?? ''}: ${(err as Error).message ?? String(err)}\n`);
    if (process.env.GATEHOUSE_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}

async function run(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case 'start':
      return (await import('./cli-gateway.js')).start(rest);
    case 'check':
      return (await import('./cli-files.js')).check(rest);
    case 'keys':
      return (await import('./cli-files.js')).keys(rest);
    case 'backup':
      return (await import('./cli-backup.js')).backup(rest);
    case 'users':
      if (rest[0] === 'hash-password') return (await import('./cli-files.js')).hashPassword(rest.slice(1));
      return (await import('./admin/cli.js')).runAdminCommand(command, rest);
    case 'sessions':
    case 'login':
    case 'decisions':
    case 'policy-test':
      return (await import('./admin/cli.js')).runAdminCommand(command, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`gatehouse: unknown command "${command}" (run \`gatehouse help\` for the list)\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
