// `workers: N` — N gateway processes sharing the data port through node:cluster. The primary only
// supervises: it forks the workers, restarts one that dies, relays revocations and live identity
// changes between them (so a session revoked or regrouped through worker 1's admin API or SCIM is
// decided anew by every worker on its next request) and sign-in state (login/peers.ts), forwards
// SIGHUP, and on SIGTERM/SIGINT lets every worker drain before exiting 0.
import cluster, { type Worker } from 'node:cluster';
import type { RevocationSet } from '../auth/revocations.js';
import { handleMetricsMessage } from './cluster-metrics.js';
import type { Logger } from '../log.js';
import { isMessage, isProcessMessage, RELAYED, type ProcessMessage } from './messages.js';

/** A session's live identity state (identity/overlay.ts LiveState; process/ sees only its version). */
type LiveState = { version: number };

/** What the bridge needs of identity/overlay.ts IdentityOverlay. */
interface LiveStates<S extends LiveState> {
  on(event: 'changed', listener: (sessionId: string, state: S) => void): unknown;
  set(sessionId: string, state: S): boolean;
}

/** Worker 1 also serves the admin listener (one admin API, one /metrics for the deployment: cluster-metrics.ts). */
export const workerId = (): number => Number(process.env.GATEHOUSE_WORKER_ID ?? '1');

/** Runs in the primary. Resolves with the exit code once every worker has stopped. */
export function superviseWorkers(count: number, logger: Logger): Promise<number> {
  let stopping = false;
  const ids = new Map<Worker, number>();
  const fork = (id: number): void => {
    const w = cluster.fork({ GATEHOUSE_WORKER_ID: String(id) });
    ids.set(w, id);
    w.on('message', (m: unknown) => {
      if (!isProcessMessage(m)) return;
      if (handleMetricsMessage(w, m, () => [...ids.keys()])) return;
      // Worker-to-workers messages (revocations; sign-in state, see login/peers.ts): relayed as is.
      if (!RELAYED.has(m.gatehouse)) return;
      for (const other of ids.keys()) if (other !== w && other.isConnected()) other.send(m);
    });
  };
  for (let i = 1; i <= count; i++) fork(i);

  return new Promise((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      const id = ids.get(w) ?? 0;
      ids.delete(w);
      if (stopping) {
        if (ids.size === 0) resolve(0);
        return;
      }
      logger.error({ worker: id, code, signal }, 'worker died; starting a new one');
      setTimeout(() => fork(id), 500).unref();
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, workers: ids.size }, 'stopping workers');
      for (const w of ids.keys()) w.process.kill('SIGTERM');
      if (ids.size === 0) resolve(0);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      for (const w of ids.keys()) w.process.kill('SIGHUP');
    });
  });
}

/** Runs in a worker: shares its revocations with the others through the primary. */
export function bridgeRevocations(revocations: RevocationSet): void {
  if (!cluster.isWorker || !process.send) return;
  let applyingRemote = false;
  revocations.on('revoked', (event) => {
    if (!applyingRemote) process.send?.({ gatehouse: 'revoked', event } satisfies ProcessMessage);
  });
  process.on('message', (m: unknown) => {
    if (!isMessage(m, 'revoked')) return;
    applyingRemote = true;
    try {
      const e = m.event;
      if ('sessionId' in e) revocations.revokeSession(e.sessionId);
      else revocations.revokeAppBefore(e.app, e.before);
    } finally {
      applyingRemote = false;
    }
  });
}

/**
 * Runs in a worker: shares live identity changes with the others through the primary. With SQLite
 * nothing else tells the other workers (PostgreSQL instances also hear it through NOTIFY); the
 * overlay ignores a version it already has, so a change relayed back, or heard twice, is a no-op.
 */
export function bridgeIdentities<S extends LiveState>(overlay: LiveStates<S>): void {
  if (!cluster.isWorker || !process.send) return;
  let applyingRemote = false;
  overlay.on('changed', (sessionId, state) => {
    if (!applyingRemote) process.send?.({ gatehouse: 'identity', sessionId, state } satisfies ProcessMessage);
  });
  process.on('message', (m: unknown) => {
    if (!isMessage(m, 'identity')) return;
    applyingRemote = true;
    try {
      overlay.set(m.sessionId, m.state as S);
    } finally {
      applyingRemote = false;
    }
  });
}
