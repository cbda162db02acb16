// Open WebSocket connections by session, so a revocation closes them: a sweep every 2 s checks
// each connection's identity against the revocation set (which also covers per-app cutoffs and
// revocations that arrive from other instances).
import type { Duplex } from 'node:stream';
import type { RequestContext } from '../context.js';
import type { RevocationSet } from '../auth/revocations.js';
import type { Identity } from '../policy/types.js';

interface Connection {
  identity: Identity;
  app: string;
  socket: Duplex;
}

export class WebSocketRegistry {
  private readonly open = new Set<Connection>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly revocations: RevocationSet,
    sweepMs = 2000,
  ) {
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  get size(): number {
    return this.open.size;
  }

  track(ctx: RequestContext, socket: Duplex): void {
    if (!ctx.identity || !ctx.app) return;
    const conn: Connection = { identity: ctx.identity, app: ctx.app.name, socket };
    this.open.add(conn);
    socket.once('close', () => this.open.delete(conn));
  }

  sweep(now = Date.now()): number {
    let closed = 0;
    for (const conn of this.open) {
      if (this.revocations.isRevoked(conn.identity, conn.app) || conn.identity.expiresAt * 1000 <= now) {
        conn.socket.destroy();
        this.open.delete(conn);
        closed++;
      }
    }
    return closed;
  }

  close(): void {
    clearInterval(this.timer);
    for (const conn of this.open) conn.socket.destroy();
    this.open.clear();
  }
}
