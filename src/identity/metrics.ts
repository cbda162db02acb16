// Identity events received from outside, counted by channel, result and reason: the one counter
// every push channel (SSF, back-channel logout …) shares, created on first use in the gateway's
// registry (so it is aggregated across workers like every other counter).
import { Counter, type Registry } from 'prom-client';

const NAME = 'gatehouse_identity_events_total';

export type IdentityEventCounter = Counter<'channel' | 'result' | 'reason'>;

export function identityEventCounter(metrics: { readonly registry: Registry }): IdentityEventCounter {
  const existing = metrics.registry.getSingleMetric(NAME);
  if (existing) return existing as IdentityEventCounter;
  return new Counter({
    name: NAME,
    help: 'Identity events received, by channel (ssf …), result (accepted, refused) and reason (the event type accepted, or the error code of a refusal).',
    labelNames: ['channel', 'result', 'reason'],
    registers: [metrics.registry],
  });
}
