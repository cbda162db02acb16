// What a test needs from the machine (PostgreSQL, Chromium, nginx, Caddy, curl, jq) and what
// happens without it. On a developer's machine the test file is skipped and a note — which need,
// why it is missing, how to get it, which file did not run — goes to the file named by
// GATEHOUSE_TEST_MISSING; test/run.mjs prints one line per missing need after tap's summary.
// With CI=true nothing may be left out: a missing need fails the file, with the same words.
import { accessSync, appendFileSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Test } from 'tap';
import { PG_URL, postgresUnavailable } from './pg.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
export const CADDY = process.env.CADDY_PATH ?? '/usr/bin/caddy';

/** One line of GATEHOUSE_TEST_MISSING (JSON): test/run.mjs groups them by `need`. */
export interface MissingNeed {
  need: string;
  why: string;
  how: string;
  /** What did not run (a test file's own words). */
  what: string;
}

/** True when the file may run; otherwise it has been skipped (or failed under CI) with the reason. */
export async function needsPostgres(t: Test, what: string): Promise<boolean> {
  const why = await postgresUnavailable();
  if (!why) return true;
  return missing(t, {
    need: 'PostgreSQL',
    why,
    how: `start PostgreSQL with trust auth and a database "test" on 127.0.0.1:5432 (Debian: apt-get install -y postgresql; .ci/run does it), or set GATEHOUSE_TEST_POSTGRES (now ${PG_URL})`,
    what,
  });
}

export function needsChromium(t: Test, what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  return missing(t, { need: 'Chromium', why: `no Chromium at ${CHROMIUM}`, how: 'apt-get install -y chromium (.ci/run does it), or set CHROMIUM_PATH', what });
}

export function needsNginx(t: Test, what: string): boolean {
  if (existsSync(NGINX)) return true;
  return missing(t, { need: 'nginx', why: `no nginx at ${NGINX}`, how: 'apt-get install -y nginx-light (.ci/run does it), or set NGINX_PATH', what });
}

export function needsCaddy(t: Test, what: string): boolean {
  if (existsSync(CADDY)) return true;
  return missing(t, { need: 'Caddy', why: `no caddy at ${CADDY}`, how: 'apt-get install -y caddy (.ci/run does it), or set CADDY_PATH', what });
}

/** Commands found on PATH (curl, jq …), one need each. */
export function needsCommands(t: Test, what: string, ...commands: string[]): boolean {
  const absent = commands.filter((cmd) => !onPath(cmd));
  if (absent.length === 0) return true;
  return missing(t, ...absent.map((cmd) => ({ need: cmd, why: `no ${cmd} on PATH`, how: `apt-get install -y ${cmd} (.ci/run does it)`, what })));
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function missing(t: Test, ...needs: MissingNeed[]): false {
  const lines = needs.map((m) => `${m.what} did not run: ${m.why}; ${m.how}`);
  if (process.env.CI) {
    for (const line of lines) t.fail(`CI=true, and ${line}`);
    return false;
  }
  const file = process.env.GATEHOUSE_TEST_MISSING;
  if (file) appendFileSync(file, needs.map((m) => JSON.stringify(m) + '\n').join(''));
  t.plan(0, lines.join(' / '));
  return false;
}
