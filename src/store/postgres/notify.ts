// Revocations made by other instances, as they happen. A dedicated connection (not from the pool)
// LISTENs on gatehouse_revocations; every revoking transaction NOTIFYs on commit (notifyStatements
// below), so each instance refuses a revoked session a few milliseconds later.
//
// Notifications are lost while the connection is down, so after every (re)connect the watcher
// loads the full revocation state and hands it to the listener; it also polls that state every
// few seconds as a safety net (a silently dead connection, a missed message) and uses the poll to
// check that the LISTEN connection still answers. Reconnects back off exponentially up to 5 s.
// Timers are unref'd; close() stops everything.
import type pg from 'pg';
import type { Logger } from '../../log.js';
import type { RevocationState } from '../types.js';

export const REVOCATION_CHANNEL = 'gatehouse_revocations';

/**
 * The NOTIFY payload (JSON, < 8000 bytes): `{"schema","sessionIds":[…]}`, `{"schema","appCutoffs":
 * {app: ms}}`, or `{"schema","resync":true}` when ids do not fit (listeners then load the state).
 * Instances on other schemas of the same database share the channel and ignore each other.
 */
export interface RevocationNotice {
  schema: string;
  sessionIds?: string[];
  appCutoffs?: Record<string, number>;
  /** Identity versions written (store/postgres/identity.ts): listeners load the newer states. */
  identities?: Array<{ sessionId: string; version: number }>;
  resync?: true;
}

const MAX_PAYLOAD_BYTES = 7000;

/** The payloads announcing `state`, each small enough for NOTIFY. */
export function revocationNotices(schema: string, state: Partial<RevocationState>): string[] {
  const out: string[] = [];
  const cutoffs = state.appCutoffs ?? {};
  if (Object.keys(cutoffs).length > 0) out.push(JSON.stringify({ schema, appCutoffs: cutoffs } satisfies RevocationNotice));
  // One identity write announces one session: far below the payload limit (ids are indexed, ≤ 600 chars).
  if (state.identities?.length) out.push(JSON.stringify({ schema, identities: state.identities } satisfies RevocationNotice));
  let chunk: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (chunk.length) out.push(JSON.stringify({ schema, sessionIds: chunk } satisfies RevocationNotice));
    chunk = [];
    bytes = 0;
  };
  for (const id of state.sessionIds ?? []) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (size > MAX_PAYLOAD_BYTES - 100) {
      flush();
      out.push(JSON.stringify({ schema, resync: true } satisfies RevocationNotice));
      continue;
    }
    if (bytes + size > MAX_PAYLOAD_BYTES - 100) flush();
    chunk.push(id);
    bytes += size;
  }
  flush();
  return out;
}

/** Sends the notices inside the caller's transaction: they are delivered only if it commits. */
export async function notifyRevocations(c: pg.ClientBase, schema: string, state: Partial<RevocationState>): Promise<void> {
  const notices = revocationNotices(schema, state);
  if (notices.length > 0) await c.query('SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n', [REVOCATION_CHANNEL, notices]);
}

export interface RevocationWatcherOptions {
  schema: string;
  /** A new, unconnected client for the LISTEN connection. */
  newClient: () => pg.Client;
  /** The full state (through the pool). */
  load: () => Promise<RevocationState>;
  logger: Logger;
  /** Safety-net poll of the full state (default 5000 ms). */
  pollIntervalMs?: number;
  /** Longest wait between reconnect attempts (default 5000 ms). */
  maxBackoffMs?: number;
}

type Listener = (update: RevocationState) => void;

export class RevocationWatcher {
  private readonly listeners: Listener[] = [];
  private client: pg.Client | null = null;
  private connecting = false;
  private connectedOnce = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private pollAgain = false;
  private closed = false;
  private readonly pollMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly opts: RevocationWatcherOptions) {
    this.pollMs = opts.pollIntervalMs ?? 5000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.client !== null;
  }

  watch(listener: Listener): void {
    if (this.closed) return;
    this.listeners.push(listener);
    if (this.listeners.length > 1) return;
    void this.connect();
    this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
    this.pollTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.reconnectTimer = this.pollTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await endQuietly(client);
  }

  private async connect(): Promise<void> {
    if (this.closed || this.connecting || this.client) return;
    this.connecting = true;
    const client = this.opts.newClient();
    // Before connect(): a failure of a connection in progress must not be an uncaught 'error'.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (msg) => this.onNotification(msg));
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (err) {
      this.connecting = false;
      void endQuietly(client);
      this.retry(err as Error);
      return;
    }
    this.connecting = false;
    if (this.closed) return void endQuietly(client);
    this.client = client;
    const log = this.opts.logger;
    if (this.attempts > 0) log.info({ attempts: this.attempts, store: 'postgres' }, 'revocation feed reconnected');
    else if (!this.connectedOnce) log.info({ channel: REVOCATION_CHANNEL, store: 'postgres' }, 'revocation feed listening');
    this.connectedOnce = true;
    this.attempts = 0;
    // Listening first, then the snapshot: nothing revoked in between can slip through.
    await this.poll();
  }

  private lost(client: pg.Client, err: Error): void {
    if (client !== this.client) return;
    this.client = null;
    void endQuietly(client);
    this.retry(err);
  }

  private retry(err: Error): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = Math.min(this.maxBackoffMs, 100 * 2 ** this.attempts++);
    if (this.attempts === 1) {
      this.opts.logger.warn(
        { err: err.message, store: 'postgres', retryMs: delay },
        'revocation feed disconnected; reconnecting (revocations are polled meanwhile)',
      );
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Loads the full state for the listeners and checks the LISTEN connection still answers. */
  private async poll(): Promise<void> {
    if (this.closed) return;
    if (this.polling) {
      // A load already under way may have started before a reconnect: load once more after it.
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        try {
          this.emit(await this.opts.load());
        } catch {
          // The store is down: the writer and /readyz report it; the next poll tries again.
        }
      } while (this.pollAgain && !this.closed);
    } finally {
      this.polling = false;
    }
    const client = this.client;
    if (client) await client.query('SELECT 1').catch((err: Error) => this.lost(client, err));
  }

  private onNotification(msg: pg.Notification): void {
    if (msg.channel !== REVOCATION_CHANNEL || !msg.payload) return;
    let notice: RevocationNotice;
    try {
      notice = JSON.parse(msg.payload) as RevocationNotice;
    } catch {
      return;
    }
    if (notice.schema !== this.opts.schema) return;
    if (notice.resync) return void this.poll();
    this.emit({
      sessionIds: Array.isArray(notice.sessionIds) ? notice.sessionIds.filter((id) => typeof id === 'string') : [],
      appCutoffs: Object.fromEntries(
        Object.entries(notice.appCutoffs && typeof notice.appCutoffs === 'object' ? notice.appCutoffs : {}).filter(([, at]) => Number.isSafeInteger(at)),
      ),
      identities: Array.isArray(notice.identities)
        ? notice.identities.filter((i) => typeof i?.sessionId === 'string' && Number.isSafeInteger(i.version))
        : [],
    });
  }

  private emit(update: RevocationState): void {
    for (const listener of this.listeners) {
      try {
        listener(update);
      } catch (err) {
        this.opts.logger.error({ err }, 'revocation listener failed');
      }
    }
  }
}

/** end() without waiting forever or throwing: the connection may already be gone. */
function endQuietly(client: pg.Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    timer.unref();
    client.end().then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}
