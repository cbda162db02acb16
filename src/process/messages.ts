// Every message gatehouse processes send each other under `workers: N` (node:cluster IPC), in one
// closed union. Each is an object tagged `gatehouse: <kind>`; anything else on the channel is not
// ours and is ignored. Who sends what:
//
//   kind              from → to                                  what
//   revoked           worker → primary → every other worker      a revocation (cluster.ts)
//   login             worker → primary → every other worker      sign-in state (login/peers.ts)
//   identity          worker → primary → every other worker      a live identity change (cluster.ts)
//   metrics-collect   worker 1 → primary                         a /metrics scrape began (cluster-metrics.ts)
//   metrics-request   primary → every worker                     send me your metrics
//   metrics-json      worker → primary                           my metrics (prom-client JSON)
//   metrics-result    primary → worker 1                         the aggregated text, or null
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { RevocationEvent } from '../auth/revocations.js';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export type ProcessMessage =
  | { gatehouse: 'revoked'; event: RevocationEvent }
  | { gatehouse: 'login'; topic: string; data: unknown }
  /** `state`: identity/overlay.ts LiveState (its version orders the changes). */
  | { gatehouse: 'identity'; sessionId: string; state: { version: number } }
  | { gatehouse: 'metrics-collect'; id: number }
  | { gatehouse: 'metrics-request'; id: number }
  | { gatehouse: 'metrics-json'; id: number; json: MetricsJson }
  | { gatehouse: 'metrics-result'; id: number; text: string | null };

export type MessageKind = ProcessMessage['gatehouse'];
export type MessageOf<K extends MessageKind> = Extract<ProcessMessage, { gatehouse: K }>;

const KINDS: ReadonlySet<string> = new Set<MessageKind>(['revoked', 'login', 'identity', 'metrics-collect', 'metrics-request', 'metrics-json', 'metrics-result']);

/** Messages the primary passes on, as they are, to every other worker. */
export const RELAYED: ReadonlySet<string> = new Set<MessageKind>(['revoked', 'login', 'identity']);

/** Is `m` one of ours? (The IPC channel may carry other modules' messages.) */
export function isProcessMessage(m: unknown): m is ProcessMessage {
  return typeof m === 'object' && m !== null && KINDS.has((m as { gatehouse?: unknown }).gatehouse as string);
}

/** Is `m` one of ours, of one of these kinds? */
export function isMessage<K extends MessageKind>(m: unknown, ...kinds: K[]): m is MessageOf<K> {
  return isProcessMessage(m) && (kinds as string[]).includes(m.gatehouse);
}
