// The local_users identity provider: email + password (scrypt hashes from the users file) and, when
// the user has a TOTP secret, a one-time code (then amr = ["pwd","mfa"]). Unknown users cost the same
// scrypt work as known ones (a dummy hash with the same parameters), every failure looks the same to
// the client, and a used TOTP code cannot be replayed: the last step used per user is a mark in the
// sign-in state that only moves forward (in the database when the store is shared, so a code used on
// one instance is refused on every other).
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { DEFAULT_SCRYPT, hashSecret, verifySecret, type ScryptParams } from '../auth/password.js';
import type { SessionClaims } from '../auth/session-token.js';
import type { IdentityProviderConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { SignInState } from '../store/types.js';
import type { Lockout, LoginThrottle } from './throttle.js';
import { normEmail } from './throttle.js';
import { UsersFile, type LocalUser } from './users-file.js';

const MAX_EMAIL = 254;
const MAX_PASSWORD = 1024;
/** otpauth's default period (30 s). */
const TOTP_PERIOD_MS = 30_000;

export type LocalResult =
  | { ok: true; claims: SessionClaims }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; lockout: Lockout }
  /** The password is right and the user has TOTP, but no code was sent: ask for it (not a failure). */
  | { ok: false; reason: 'code_required' };

// One dummy hash per scrypt parameter set, computed once.
const dummies = new Map<string, Promise<string>>();
function dummyHash(params: ScryptParams): Promise<string> {
  const key = `${params.N}$${params.r}$${params.p}`;
  let d = dummies.get(key);
  if (!d) dummies.set(key, (d = hashSecret(randomBytes(16).toString('hex'), params)));
  return d;
}

function paramsOf(hash: string | undefined): ScryptParams {
  const m = hash ? /^scrypt\$(\d+)\$(\d+)\$(\d+)\$/.exec(hash) : null;
  return m ? { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) } : DEFAULT_SCRYPT;
}

export class LocalProvider {
  readonly type = 'local_users' as const;
  readonly users: UsersFile;

  constructor(
    readonly cfg: IdentityProviderConfig,
    private readonly throttle: LoginThrottle,
    logger: Logger,
    private readonly state: SignInState,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new UsersFile(cfg.file ?? '', logger);
  }

  /** Marks the step used; false when it (or a later one) was used already. */
  private useStep(email: string, step: number): Promise<boolean> {
    // Kept while a code of that step could still validate (±1 step of drift).
    const expiresAt = (step + 2) * TOTP_PERIOD_MS;
    return this.state.advance(`totp:${this.cfg.id}:${email}`, step, expiresAt, this.now());
  }

  get id(): string {
    return this.cfg.id;
  }

  start(): Promise<void> {
    return this.users.start();
  }

  /** `password` null: the password step already passed (the caller checked its ticket); only the code is checked. */
  async signIn(emailInput: string, password: string | null, code: string, clientIp: string): Promise<LocalResult> {
    const email = normEmail(emailInput.slice(0, MAX_EMAIL));
    const locked = await this.throttle.locked(email, clientIp);
    if (locked) return { ok: false, reason: 'locked', lockout: locked };
    await this.users.refresh();
    const user = this.users.get(email);
    const passwordOk = password === null ? user !== undefined : await this.checkPassword(user, password);
    if (passwordOk && user?.totpSecret && password !== null && code.trim() === '') return { ok: false, reason: 'code_required' };
    const step = user?.totpSecret ? this.totpStep(user, code) : null;
    const codeOk = !user?.totpSecret || step !== null;
    // Only a right password and a valid code spend the code: a wrong password must not burn it.
    const fresh = passwordOk && codeOk && (step === null || (await this.useStep((user as LocalUser).email, step)));
    if (!user || !fresh) {
      const lockout = await this.throttle.fail(email, clientIp);
      return lockout ? { ok: false, reason: 'locked', lockout } : { ok: false, reason: 'invalid' };
    }
    await this.throttle.succeed(email);
    return {
      ok: true,
      claims: {
        sub: user.email,
        email: user.email,
        ...(user.name ? { name: user.name } : {}),
        groups: user.groups,
        idp: this.cfg.id,
        amr: user.totpSecret ? ['pwd', 'mfa'] : ['pwd'],
      },
    };
  }

  private async checkPassword(user: LocalUser | undefined, password: string): Promise<boolean> {
    // The same parameters as a real user's hash, so timing does not tell who has an account.
    const hash = user?.passwordHash ?? (await dummyHash(paramsOf(this.sampleHash())));
    return (await verifySecret(password.slice(0, MAX_PASSWORD), hash)) && user !== undefined;
  }

  /** The time step of a valid code (±1 step of clock drift), or null. */
  private totpStep(user: LocalUser, code: string): number | null {
    const token = code.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(token)) return null;
    const totp = new TOTP({ secret: Secret.fromBase32(user.totpSecret as string) });
    const timestamp = this.now();
    const delta = totp.validate({ token, timestamp, window: 1 });
    return delta === null ? null : totp.counter({ timestamp }) + delta;
  }

  private sampleHash(): string | undefined {
    return this.users.any()?.passwordHash;
  }

  close(): void {
    this.users.close();
  }
}
