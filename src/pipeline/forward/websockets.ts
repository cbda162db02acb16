// Open WebSocket connections by session, so a revocation or an identity change closes the ones no
// longer allowed: checked at once when the revocation set or the live-identity overlay announces a
// change (also those arriving from other workers and instances), or a session's identity turns
// stale (refresh failing past refresh_max_stale), and by a sweep every 2 s as a safety net (expiry,
// per-app cutoffs, staleness). A refused connection gets a close frame (4403, or 4401 when the
// session itself is gone or its identity stale) before its socket is destroyed.
import type { Duplex } from 'node:stream';
import type { RoutedContext } from '../../context.js';
import type { RevocationSet } from '../../auth/revocations.js';
import type { IdentityOverlay } from '../../identity/overlay.js';
import type { StaleIdentities } from '../../identity/stale.js';
import { evaluate } from '../../policy/evaluate.js';
import type { Identity } from '../../policy/types.js';

interface Connection {
  ctx: RoutedContext;
  /** Null on a public (bypass) route: nothing to re-decide, but a shutdown still says goodbye. */
  identity: Identity | null;
  app: string;
  socket: Duplex;
}

/** Private-use close codes (RFC 6455 §7.4.2) mirroring HTTP: the session is gone / access is denied. */
export const WS_CLOSE_UNAUTHENTICATED = 4401;
export const WS_CLOSE_FORBIDDEN = 4403;
/** RFC 6455 §7.4.1: the server is going down (a rolling restart); the client reconnects elsewhere. */
export const WS_CLOSE_GOING_AWAY = 1001;

/** A server-to-client (unmasked) close frame with a code and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 100));
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

export class WebSocketRegistry {
  private readonly open = new Set<Connection>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly revocations: RevocationSet,
    private readonly identities?: IdentityOverlay,
    sweepMs = 2000,
    private readonly stale?: StaleIdentities,
  ) {
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
    revocations.on('revoked', () => this.sweep());
    identities?.on('changed', (sessionId) => this.recheck(sessionId));
    stale?.on('stale', () => this.sweep());
  }

  get size(): number {
    return this.open.size;
  }

  track(ctx: RoutedContext, socket: Duplex): void {
    const conn: Connection = { ctx, identity: ctx.identity ?? null, app: ctx.app.name, socket };
    this.open.add(conn);
    socket.once('close', () => this.open.delete(conn));
  }

  sweep(now = Date.now()): number {
    let closed = 0;
    for (const conn of this.open) {
      if (!conn.identity) continue;
      if (this.revocations.isRevoked(conn.identity, conn.app) || conn.identity.expiresAt * 1000 <= now) {
        this.end(conn, WS_CLOSE_UNAUTHENTICATED, 'session revoked or expired');
        closed++;
      } else if (this.stale && this.stale.size > 0 && this.stale.has(conn.identity.sessionId)) {
        this.end(conn, WS_CLOSE_UNAUTHENTICATED, 'identity_stale');
        closed++;
      }
    }
    return closed;
  }

  /** The session's identity changed: re-decide each of its connections on the new identity. */
  recheck(sessionId: string): number {
    if (!this.identities) return 0;
    let closed = 0;
    for (const conn of this.open) {
      if (!conn.identity || conn.identity.sessionId !== sessionId) continue;
      conn.identity = this.identities.apply(this.identities.baseOf(conn.identity));
      const decision = evaluate(conn.ctx.app.compiled, conn.identity, conn.ctx.facts, { quiet: true });
      if (decision.outcome === 'deny') {
        this.end(conn, WS_CLOSE_FORBIDDEN, 'access no longer allowed');
        closed++;
      }
    }
    return closed;
  }

  private end(conn: Connection, code: number, reason: string): void {
    this.open.delete(conn);
    const socket = conn.socket;
    if (socket.writable) socket.end(closeFrame(code, reason));
    // A peer that does not finish the closing handshake promptly is cut off.
    setTimeout(() => socket.destroy(), 250).unref();
  }

  /** Shutdown: every open connection gets a 1001 close frame (the drain ended with them still open). */
  goingAway(): void {
    for (const conn of this.open) this.end(conn, WS_CLOSE_GOING_AWAY, 'server restarting');
  }

  close(): void {
    clearInterval(this.timer);
    for (const conn of this.open) conn.socket.destroy();
    this.open.clear();
  }
}
