// Users files for the local_users tests, with cheap scrypt parameters so the suite stays fast.
import { stringify } from 'yaml';
import { hashSecret } from '../../../src/auth/password.js';

export const FAST = { N: 1024, r: 8, p: 1 };

export interface TestUser {
  email: string;
  password: string;
  name?: string;
  groups?: string[];
  totp_secret?: string;
}

export async function usersYaml(users: TestUser[]): Promise<string> {
  const entries = await Promise.all(
    users.map(async (u) => ({
      email: u.email,
      ...(u.name ? { name: u.name } : {}),
      groups: u.groups ?? [],
      password_hash: await hashSecret(u.password, FAST),
      ...(u.totp_secret ? { totp_secret: u.totp_secret } : {}),
    })),
  );
  return stringify({ users: entries });
}
