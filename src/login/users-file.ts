// The local users file (identity provider type local_users): parsed, validated per entry, and
// reloaded when it changes — fs.watch for promptness plus a cheap async stat before each sign-in,
// because watchers miss events on some file systems. A broken edit keeps the last good set.
// All reads are async: nothing here blocks the event loop.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Secret } from 'otpauth';
import { parse } from 'yaml';
import { YAML_LIMITS } from '../config/positions.js';
import { isSecretHash } from '../auth/password.js';
import type { Logger } from '../log.js';
import { normEmail } from './throttle.js';

export interface LocalUser {
  /** Lowercased. */
  email: string;
  name?: string;
  groups: string[];
  passwordHash: string;
  /** Base32 TOTP secret: when set, a one-time code is required (amr gets "mfa"). */
  totpSecret?: string;
  /** `disabled: true`: cannot sign in, and their live sessions are revoked. */
  disabled?: true;
}

export interface ParsedUsers {
  users: Map<string, LocalUser>;
  /** One line per skipped entry, e.g. `users[2] (bob@x): password_hash is not …`. */
  problems: string[];
}

/** Parses users.yaml (`users: [{email, name, groups, password_hash, totp_secret}]`). Throws on bad YAML. */
export function parseUsers(text: string): ParsedUsers {
  if (Buffer.byteLength(text) > YAML_LIMITS.maxBytes) throw new Error(`the users file is larger than ${YAML_LIMITS.maxBytes / 1024} KiB`);
  const doc = (parse(text, { maxAliasCount: YAML_LIMITS.maxAliasCount }) ?? {}) as { users?: unknown };
  const list = doc.users ?? [];
  const users = new Map<string, LocalUser>();
  const problems: string[] = [];
  if (!Array.isArray(list)) return { users, problems: ['"users" must be a list'] };
  list.forEach((raw: unknown, i) => {
    const u = (raw ?? {}) as Record<string, unknown>;
    const at = `users[${i}]${typeof u.email === 'string' ? ` (${u.email})` : ''}`;
    const bad = entryProblem(u);
    if (bad) return void problems.push(`${at}: ${bad}`);
    const email = normEmail(u.email as string);
    if (users.has(email)) return void problems.push(`${at}: duplicate email`);
    users.set(email, {
      email,
      ...(typeof u.name === 'string' ? { name: u.name } : {}),
      groups: (u.groups as string[] | undefined) ?? [],
      passwordHash: u.password_hash as string,
      ...(typeof u.totp_secret === 'string' ? { totpSecret: u.totp_secret.replace(/\s+/g, '').toUpperCase() } : {}),
      ...(u.disabled === true ? { disabled: true as const } : {}),
    });
  });
  return { users, problems };
}

function entryProblem(u: Record<string, unknown>): string | null {
  const known = ['email', 'name', 'groups', 'password_hash', 'totp_secret', 'disabled'];
  const unknown = Object.keys(u).find((k) => !known.includes(k));
  if (unknown) return `unknown key "${unknown}" (known: ${known.join(', ')})`;
  if (typeof u.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(u.email)) return 'email must be an address';
  if (u.name !== undefined && typeof u.name !== 'string') return 'name must be a string';
  if (u.disabled !== undefined && typeof u.disabled !== 'boolean') return 'disabled must be true or false';
  if (u.groups !== undefined && !(Array.isArray(u.groups) && u.groups.every((g) => typeof g === 'string'))) return 'groups must be a list of names';
  if (typeof u.password_hash !== 'string' || !isSecretHash(u.password_hash)) return 'password_hash must be the output of `gatehouse users hash-password`';
  if (u.totp_secret !== undefined) {
    if (typeof u.totp_secret !== 'string') return 'totp_secret must be a base32 string';
    try {
      if (Secret.fromBase32(u.totp_secret.replace(/\s+/g, '').toUpperCase()).bytes.length < 10) return 'totp_secret is too short (16+ base32 characters)';
    } catch {
      return 'totp_secret must be a base32 string';
    }
  }
  return null;
}

/** `changed` (before, after): a reload changed the users (not the first load); live sessions follow (identity/users-file.ts). */
export class UsersFile extends EventEmitter<{ changed: [before: ReadonlyMap<string, LocalUser>, after: ReadonlyMap<string, LocalUser>] }> {
  private users = new Map<string, LocalUser>();
  private signature = '';
  private loaded = false;
  private pending: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** First load, then watch. A missing file is a warning: the provider simply has no users yet. */
  async start(): Promise<void> {
    await this.refresh();
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, name) => {
        if (name !== null && name !== basename(this.file)) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.refresh(), 50);
        this.debounce.unref();
      });
      this.watcher.on('error', (err) => this.logger.warn({ err, file: this.file }, 'users file watcher failed; changes are picked up at the next sign-in'));
    } catch (err) {
      this.logger.warn({ err, file: this.file }, 'cannot watch the users file; changes are picked up at the next sign-in');
    }
  }

  /** A user who may sign in (a disabled one is as unknown). */
  get(email: string): LocalUser | undefined {
    const u = this.users.get(normEmail(email));
    return u?.disabled ? undefined : u;
  }

  /** Some user (for the dummy hash's parameters), if any. */
  any(): LocalUser | undefined {
    return this.users.values().next().value;
  }

  get size(): number {
    return this.users.size;
  }

  /** Re-reads the file when its inode, size or mtime changed. Concurrent calls share one read. */
  refresh(): Promise<void> {
    this.pending ??= this.reload().finally(() => (this.pending = null));
    return this.pending;
  }

  private async reload(): Promise<void> {
    let sig: string;
    try {
      const s = await stat(this.file);
      sig = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if (this.signature !== 'missing') this.logger.warn({ file: this.file, error: (err as Error).message }, 'users file cannot be read; keeping the last good users');
      this.signature = 'missing';
      return;
    }
    if (sig === this.signature) return;
    this.signature = sig;
    try {
      const parsed = parseUsers(await readFile(this.file, 'utf8'));
      for (const p of parsed.problems) this.logger.warn({ file: this.file }, `users file: ${p}; entry skipped`);
      const before = this.users;
      const first = this.loaded === false;
      this.users = parsed.users;
      this.loaded = true;
      if (!first) this.emit('changed', before, parsed.users);
      this.logger.info({ file: this.file, users: parsed.users.size }, 'users file loaded');
    } catch (err) {
      this.logger.error({ file: this.file, error: (err as Error).message }, 'users file is not valid YAML; keeping the last good users');
    }
  }

  close(): void {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
  }
}
