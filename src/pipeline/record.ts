// Stage 4 — record: hand the request's identity and decision to the batching writer. Never waits:
// the writer queues in memory and flushes in one transaction every ≤100 ms, off the request path.
import type { RoutedContext } from '../context.js';
import type { Services } from './services.js';

export function record(ctx: RoutedContext, s: Services): undefined {
  s.recorder.allowed(ctx);
  return undefined;
}
