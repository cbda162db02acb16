// The local_users identity provider: email + password (scrypt hashes from the users file) and, when
// the user has a TOTP secret, a one-time code (then amr = ["pwd","mfa"]). Unknown users cost the same
// scrypt work as known ones (a dummy hash with the same parameters), every failure looks the same to
// the client, and a used TOTP code cannot be replayed.
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { DEFAULT_SCRYPT, hashSecret, verifySecret, type ScryptParams } from '../auth/password.js';
import type { SessionClaims } from '../auth/session-token.js';
import type { IdentityProviderConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Peers } from './peers.js';
import type { Lockout, LoginThrottle } from './throttle.js';
import { normEmail } from './throttle.js';
import { UsersFile, type LocalUser } from './users-file.js';

const MAX_EMAIL = 254;
const MAX_PASSWORD = 1024;

export type LocalResult = { ok: true; claims: SessionClaims } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; lockout: Lockout };

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
  /** Last accepted TOTP time step per user: a code is good once. */
  private readonly usedSteps = new Map<string, number>();

  constructor(
    readonly cfg: IdentityProviderConfig,
    private readonly throttle: LoginThrottle,
    logger: Logger,
    private readonly peers?: Peers,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new UsersFile(cfg.file ?? '', logger);
    peers?.on<{ email: string; step: number }>(this.totpTopic, (m) => this.useStep(m.email, m.step));
  }

  private get totpTopic(): string {
    return `totp:${this.cfg.id}`;
  }

  private useStep(email: string, step: number): void {
    if (step > (this.usedSteps.get(email) ?? -1)) this.usedSteps.set(email, step);
  }

  get id(): string {
    return this.cfg.id;
  }

  start(): Promise<void> {
    return this.users.start();
  }

  async signIn(emailInput: string, password: string, code: string, clientIp: string): Promise<LocalResult> {
    const email = normEmail(emailInput.slice(0, MAX_EMAIL));
    const locked = this.throttle.locked(email, clientIp);
    if (locked) return { ok: false, reason: 'locked', lockout: locked };
    await this.users.refresh();
    const user = this.users.get(email);
    // The same parameters as a real user's hash, so timing does not tell who has an account.
    const hash = user?.passwordHash ?? (await dummyHash(paramsOf(this.sampleHash())));
    const passwordOk = (await verifySecret(password.slice(0, MAX_PASSWORD), hash)) && user !== undefined;
    const step = user?.totpSecret ? this.totpStep(user, code) : null;
    const codeOk = !user?.totpSecret || (step !== null && step > (this.usedSteps.get(user.email) ?? -1));
    if (!user || !passwordOk || !codeOk) {
      const lockout = this.throttle.fail(email, clientIp);
      return lockout ? { ok: false, reason: 'locked', lockout } : { ok: false, reason: 'invalid' };
    }
    this.throttle.succeed(email);
    if (step !== null) {
      this.useStep(user.email, step);
      this.peers?.send(this.totpTopic, { email: user.email, step });
    }
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
