// Admin tokens at start: an `admin.tokens_file` that does not exist yet is created with one random
// token (mode 0600, like the signing keys), so a fresh install never runs an admin API without a
// token or with a guessable one; and tokens that are short or well known are warned about.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Creates `file` with a new random token unless it exists; returns the token when it was created. */
export async function ensureAdminTokenFile(file: string): Promise<string | null> {
  const token = randomBytes(32).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  try {
    // 'wx': never overwrite a file another process (or a worker) created meanwhile.
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  return token;
}

/** 24 characters of base64url carry 144 bits; anything a person types is usually shorter. */
export const MIN_ADMIN_TOKEN_LENGTH = 24;

const WELL_KNOWN = new Set(
  ['change-me', 'changeme', 'change_me', 'admin', 'administrator', 'secret', 'password', 'passw0rd', 'token', 'admin-token', 'test', 'testing', 'gatehouse', 'letmein', 'default', 'example', 'demo', 'root', 'qwerty', 'xxx'].map((s) => s.toLowerCase()),
);

/** Why a token is weak, or null. */
export function weakTokenReason(token: string): string | null {
  const t = token.toLowerCase();
  if (WELL_KNOWN.has(t) || /^(.)\1*$/.test(t) || /^(0123456789|123456|12345678|1234567890)/.test(t)) return 'a well-known value';
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) return `shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters`;
  return null;
}
