// The session key file is followed like the config: a rotated copy dropped on every instance
// (`gatehouse keys generate --rotate`, then copy) is picked up without a restart — by a stat poll of
// the file (works for cp, rename-into-place and mounted secrets alike), on every config reload
// (SIGHUP), and when a rotated key's `activates_at` comes. A file that does not load keeps the
// current keys and says why.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '../log.js';
import { loadKeySet, type KeySet } from './keys.js';

const POLL_MS = 1000;

/** What identifies a key set's contents: every key, and the one that signs. */
const fingerprint = (k: KeySet): string => `${k.signingKey.kid}|${k.privateKeys.map((p) => p.kid).join(',')}`;

export class KeyReloader {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onStat = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size) void this.check('file changed');
  };

  constructor(
    private current: KeySet,
    private readonly apply: (keys: KeySet) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): this {
    watchFile(this.current.file, { interval: POLL_MS, persistent: false }, this.onStat);
    this.schedule();
    return this;
  }

  /** Reads the file again and applies it when it differs (one check at a time). */
  check(reason: string): Promise<void> {
    this.chain = this.chain.then(() => this.reload(reason));
    return this.chain;
  }

  private async reload(reason: string): Promise<void> {
    if (this.closed) return;
    let next: KeySet;
    try {
      next = await loadKeySet(this.current.file);
    } catch (err) {
      this.logger.error({ file: this.current.file, reason, error: (err as Error).message }, 'session keys not reloaded; keeping the current ones');
      return;
    }
    if (fingerprint(next) !== fingerprint(this.current)) {
      await this.apply(next);
      this.logger.info({ reason, signing: next.signingKey.kid, keys: next.privateKeys.length }, 'session keys reloaded');
    }
    this.current = next;
    this.schedule();
  }

  /** A rotated key starts signing at its activates_at: reload then. */
  private schedule(): void {
    clearTimeout(this.timer);
    const at = this.current.nextActivation;
    if (at === null || this.closed) return;
    // setTimeout holds at most ~24.8 days; a later activation is re-armed on the way.
    this.timer = setTimeout(() => void this.check('a rotated key became active'), Math.min(at - Date.now() + 10, 2 ** 31 - 1));
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    unwatchFile(this.current.file, this.onStat);
  }
}
