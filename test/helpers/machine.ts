// What a test needs from the machine (PostgreSQL, Chromium) and what happens without it. On a
// developer's machine the test file is skipped and one line — what did not run, how to get it —
// goes to the file named by GATEHOUSE_TEST_MISSING, which test/run.mjs prints after tap's summary.
// With CI=true nothing may be left out: a missing one fails the file, with the same line.
import { appendFileSync, existsSync } from 'node:fs';
import type { Test } from 'tap';
import { PG_URL, postgresUnavailable } from './pg.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when the file may run; otherwise it has been skipped (or failed under CI) with the reason. */
export async function needsPostgres(t: Test, what: string): Promise<boolean> {
  const why = await postgresUnavailable();
  if (!why) return true;
  missing(t, `${what} did not run: ${why}. Start PostgreSQL with trust auth and a database "test" on 127.0.0.1:5432 (Debian: apt-get install -y postgresql; .ci/run does it), or set GATEHOUSE_TEST_POSTGRES (now ${PG_URL}).`);
  return false;
}

export function needsChromium(t: Test, what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  missing(t, `${what} did not run: no Chromium at ${CHROMIUM}. Install it (Debian: apt-get install -y chromium; .ci/run does it), or set CHROMIUM_PATH.`);
  return false;
}

function missing(t: Test, line: string): void {
  if (process.env.CI) {
    t.fail(`CI=true, and ${line}`);
    return;
  }
  const file = process.env.GATEHOUSE_TEST_MISSING;
  if (file) appendFileSync(file, line + '\n');
  t.plan(0, line);
}
