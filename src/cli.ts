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
  users hash-password [PASSWORD]             print a hash for users.yaml / service_tokens
                                             (reads stdin when no argument is given)
  sessions list|show ID|revoke ID [--reason R]
  users list|show EMAIL|logout EMAIL
  decisions [--request-id ID] [--email E] [--app A] [--outcome O] [--since 1h]
  policy-test --app APP (--email E | --session-id ID | --identity JSON | --file APP.yaml [--since 24h])
                                             admin API commands: read GATEHOUSE_ADMIN_URL and
                                             GATEHOUSE_ADMIN_TOKEN; --json prints raw JSON
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return (await import('./cli-gateway.js')).start(rest);
    case 'check':
      return (await import('./cli-gateway.js')).check(rest);
    case 'keys':
      return (await import('./cli-gateway.js')).keys(rest);
    case 'users':
      if (rest[0] === 'hash-password') return (await import('./cli-gateway.js')).hashPassword(rest.slice(1));
      return (await import('./admin/cli.js')).runAdminCommand(command, rest);
    case 'sessions':
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
      process.stderr.write(`gatehouse: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`gatehouse: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
