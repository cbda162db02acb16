// Authenticated encryption for sign-in state that leaves the process: the OIDC flow cookie (in the
// browser) and handoff codes (in the shared store). AES-256-GCM with a key derived by HKDF-SHA256
// from a session signing key, so every instance with the same key file opens what another sealed,
// and nothing else can read or forge it. Sealed with the signing key, opened with any key of the set
// (named by a short kid prefix), so a rotation does not break sign-ins in progress. `bound` (e.g. the
// OIDC state) is authenticated with the data: a value moved to another flow does not open.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KeySet, SigningKey } from '../auth/keys.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID_PREFIX = 8;

export class Sealer {
  /** Derived keys by kid and purpose (a handful: keys × purposes). */
  private readonly derived = new Map<string, Buffer>();

  constructor(private readonly keys: () => KeySet) {}

  private keyFor(k: SigningKey, purpose: string): Buffer {
    const id = `${k.kid}\0${purpose}`;
    let key = this.derived.get(id);
    if (!key) {
      const secret = Buffer.from(String(k.key.export({ format: 'jwk' }).d), 'base64url');
      key = Buffer.from(hkdfSync('sha256', secret, 'gatehouse', `sealed ${purpose}`, 32));
      this.derived.set(id, key);
    }
    return key;
  }

  seal(purpose: string, data: unknown, bound: string): string {
    const k = this.keys().signingKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(k, purpose), iv);
    cipher.setAAD(Buffer.from(bound));
    const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    return `${k.kid.slice(0, KID_PREFIX)}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The data, or null when it does not open (another key set, another purpose or binding, altered). */
  open<T>(purpose: string, sealed: string, bound: string): T | null {
    const dot = sealed.indexOf('.');
    const raw = Buffer.from(sealed.slice(dot + 1), 'base64url');
    const k = this.keys().privateKeys.find((x) => x.kid.slice(0, KID_PREFIX) === sealed.slice(0, dot));
    if (dot !== KID_PREFIX || !k || raw.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.keyFor(k, purpose), raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(bound));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }
}
